package storage

import "strings"

// Badger key layout of the storage index. Every key starts with a one-letter
// prefix and a slash so new record kinds can be added without migrating the
// existing ones; numbers inside keys, should any be added, are big-endian so
// byte order equals numeric order.
//
//	o/<path>             -> object record (objectRecord, JSON; see record.go)
//	a/<asset>            -> asset record (assetRecord, JSON; see assetrecord.go)
//	m/asset-records      -> marker: the asset records are complete
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
// deleted. A blob no key references (a crash between blob write and index
// commit, a failed removal) is an orphan that Sweep removes after
// Config.OrphanGrace.
//
// Asset records summarise the objects under "assets/<asset>/": object count,
// total bytes, last update time and the node that wrote them. Fields: v
// (format version, 1), n (objects), s (bytes), u (update time, unix
// nanoseconds), d (node id). Invariant: a/<asset> exists exactly when at
// least one o/assets/<asset>/... key does, and its counts equal the sum over
// those keys. Every transaction that adds, replaces or removes an object key
// under assets/ updates the asset record in the same transaction (see
// assetLedger), so ListAssets never disagrees with List.
//
// The m/asset-records marker is written once the asset records have been
// built from the object keys (on the first Open of an index created before
// asset records existed, or of a new one). Until it exists, Open rebuilds
// them, so a crash mid-rebuild is repaired by the next Open.
const (
	// objectPrefix prefixes object index keys.
	objectPrefix = "o/"
	// assetPrefix prefixes asset record keys.
	assetPrefix = "a/"
	// assetRecordsMarker marks the asset records as complete.
	assetRecordsMarker = "m/asset-records"
)

// assetKey returns the index key of the record of asset id.
func assetKey(id string) []byte {
	return []byte(assetPrefix + id)
}

// idFromAssetKey returns the asset id of an asset record key.
func idFromAssetKey(key []byte) string {
	return strings.TrimPrefix(string(key), assetPrefix)
}

// objectKey returns the index key of the object at path.
func objectKey(path string) []byte {
	return []byte(objectPrefix + path)
}

// pathFromObjectKey returns the object path of an index key.
func pathFromObjectKey(key []byte) string {
	return strings.TrimPrefix(string(key), objectPrefix)
}
