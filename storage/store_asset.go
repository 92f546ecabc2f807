package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Asset returns the record of one published asset: its object count, size,
// last change and the id of the node holding it. An unknown asset is
// ErrNotFound, an invalid id ErrInvalidPath. Edges that front several
// storage nodes ask each node for it to learn where an asset lives.
func (s *Store) Asset(id string) (AssetInfo, error) {
	if err := validateAssetID(id); err != nil {
		return AssetInfo{}, fmt.Errorf("asset: %w", err)
	}
	var info AssetInfo
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(assetKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("asset %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			rec, err := decodeAssetRecord(id, v)
			info = rec.info(id)
			return err
		})
	})
	if err != nil {
		return AssetInfo{}, fmt.Errorf("asset %s: %w", id, err)
	}
	return info, nil
}

// NodeID is the id this store records in asset records (Config.NodeID).
func (s *Store) NodeID() string { return s.cfg.NodeID }
