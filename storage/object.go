package storage

import "time"

// Object is the metadata of a stored object.
type Object struct {
	// Path is the object's path, e.g. "assets/ID/v720p/seg_00001.m4s".
	Path string
	// BlobID names the content in the BlobStore. Exposed for diagnostics and
	// garbage collection; callers read content through the Store.
	BlobID string
	// Size is the content length in bytes.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the content; it doubles as the
	// HTTP ETag because objects at a path only change by being replaced.
	SHA256 string
	// ContentType is the MIME type served with the object.
	ContentType string
	// ModTime is when the object was written.
	ModTime time.Time
}
