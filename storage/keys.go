package storage

import "strings"

// Badger key layout of the storage index. Every key starts with a one-letter
// prefix and a slash so new record kinds can be added without migrating the
// existing ones; numbers inside keys, should any be added, are big-endian so
// byte order equals numeric order.
//
//	o/<path>  -> object record (objectRecord, JSON; see record.go)
//
// Object records are keyed by the full object path, e.g.
//
//	o/sources/<id>
//	o/staging/<task>/<attempt>/<file>
//	o/assets/<asset>/<dir>/<file>
//
// so a Badger prefix scan over "o/" + prefix lists a directory in path
// order, and List's start_after maps to seeking to "o/" + startAfter.
//
// The value is a small JSON document rather than a binary struct: records
// are tiny next to the blobs they describe, JSON is self-describing when
// inspecting the index by hand, and a version field ("v") lets the format
// evolve. Fields: v (format version, 1), b (blob id in the BlobStore),
// s (size in bytes), h (lowercase hex SHA-256), t (content type),
// m (modification time, unix nanoseconds).
//
// Invariant: a blob id is referenced by at most one object key. Put creates
// a fresh blob per upload and Publish moves keys without copying, so a blob
// can be removed as soon as the key that referenced it is overwritten or
// deleted.
const (
	// objectPrefix prefixes object index keys.
	objectPrefix = "o/"
)

// objectKey returns the index key of the object at path.
func objectKey(path string) []byte {
	return []byte(objectPrefix + path)
}

// pathFromObjectKey returns the object path of an index key.
func pathFromObjectKey(key []byte) string {
	return strings.TrimPrefix(string(key), objectPrefix)
}
