package storage

import (
	"encoding/json"
	"fmt"
	"time"
)

// recordVersion is the current object record format version.
const recordVersion = 1

// objectRecord is the value stored under an object key (see keys.go). Field
// names are one letter to keep the index compact.
type objectRecord struct {
	// Version is the record format version.
	Version int `json:"v"`
	// BlobID names the content in the BlobStore.
	BlobID string `json:"b"`
	// Size is the content length in bytes.
	Size int64 `json:"s"`
	// SHA256 is the lowercase hex SHA-256 of the content.
	SHA256 string `json:"h"`
	// ContentType is the MIME type served with the object.
	ContentType string `json:"t"`
	// ModTime is when the object was written, in unix nanoseconds.
	ModTime int64 `json:"m"`
}

// newRecord builds the record of obj.
func newRecord(obj Object) objectRecord {
	return objectRecord{
		Version:     recordVersion,
		BlobID:      obj.BlobID,
		Size:        obj.Size,
		SHA256:      obj.SHA256,
		ContentType: obj.ContentType,
		ModTime:     obj.ModTime.UnixNano(),
	}
}

// encodeRecord serializes r for the index.
func encodeRecord(r objectRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode object record: %w", err)
	}
	return b, nil
}

// decodeRecord parses an index value into the Object at path.
func decodeRecord(path string, b []byte) (Object, error) {
	var r objectRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Object{}, fmt.Errorf("decode object record %q: %w", path, err)
	}
	if r.Version != recordVersion {
		return Object{}, fmt.Errorf("decode object record %q: unsupported version %d", path, r.Version)
	}
	return Object{
		Path:        path,
		BlobID:      r.BlobID,
		Size:        r.Size,
		SHA256:      r.SHA256,
		ContentType: r.ContentType,
		ModTime:     time.Unix(0, r.ModTime).UTC(),
	}, nil
}
