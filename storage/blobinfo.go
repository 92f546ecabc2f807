package storage

// BlobInfo describes a blob written by BlobStore.Create. Size and SHA256 are
// computed while streaming, so the content is never read twice on upload.
type BlobInfo struct {
	// ID names the blob in its BlobStore.
	ID string
	// Size is the content length in bytes.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the content.
	SHA256 string
}
