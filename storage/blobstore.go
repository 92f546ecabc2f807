package storage

import (
	"context"
	"io"
)

// BlobStore holds object content. It is the seam for storage backends: the
// Store keeps all naming in its index and only asks a BlobStore to write a
// new anonymous blob, read one back and delete one, so a backend needs no
// listing, renaming or metadata support. NewFileBlobStore is the local
// implementation; an S3 backend can implement the same three calls.
type BlobStore interface {
	// Create streams r into a new blob, durably, and returns its id, size
	// and SHA-256. On error no blob is left behind. It stops early when ctx
	// is done or r returns an error.
	Create(ctx context.Context, r io.Reader) (BlobInfo, error)
	// Open opens the blob with the given id for reading. A missing blob is
	// reported with an error wrapping ErrNotFound.
	Open(id string) (io.ReadSeekCloser, error)
	// Remove deletes the blob with the given id. Removing a missing blob is
	// not an error, so cleanup can be retried.
	Remove(id string) error
}
