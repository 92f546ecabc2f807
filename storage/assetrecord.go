package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// assetRecordVersion is the current asset record format version.
const assetRecordVersion = 1

// assetRecord is the value stored under an asset key (see keys.go). Field
// names are one letter to keep the index compact.
type assetRecord struct {
	// Version is the record format version.
	Version int `json:"v"`
	// Objects is the number of objects under assets/<id>/.
	Objects int64 `json:"n"`
	// Bytes is their total size.
	Bytes int64 `json:"s"`
	// UpdatedAt is the time of the last change, in unix nanoseconds.
	UpdatedAt int64 `json:"u"`
	// Node is the id of the node that made the last change.
	Node string `json:"d"`
}

// info converts the record of asset id to its exported form.
func (r assetRecord) info(id string) AssetInfo {
	return AssetInfo{
		ID:        id,
		Objects:   r.Objects,
		Bytes:     r.Bytes,
		UpdatedAt: time.Unix(0, r.UpdatedAt).UTC(),
		Node:      r.Node,
	}
}

// encodeAssetRecord serializes r for the index.
func encodeAssetRecord(r assetRecord) ([]byte, error) {
	r.Version = assetRecordVersion
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode asset record: %w", err)
	}
	return b, nil
}

// decodeAssetRecord parses the index value of asset id.
func decodeAssetRecord(id string, b []byte) (assetRecord, error) {
	var r assetRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return assetRecord{}, fmt.Errorf("decode asset record %q: %w", id, err)
	}
	if r.Version != assetRecordVersion {
		return assetRecord{}, fmt.Errorf("decode asset record %q: unsupported version %d", id, r.Version)
	}
	return r, nil
}

// getAssetRecord reads the record of asset id inside txn; found is false
// when the asset has none.
func getAssetRecord(txn *badger.Txn, id string) (rec assetRecord, found bool, err error) {
	item, err := txn.Get(assetKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return assetRecord{}, false, nil
	}
	if err != nil {
		return assetRecord{}, false, fmt.Errorf("read index: %w", err)
	}
	err = item.Value(func(v []byte) error {
		rec, err = decodeAssetRecord(id, v)
		return err
	})
	return rec, err == nil, err
}
