package storage

import (
	"context"
	"time"
)

// BlobSweeper is an optional extension of BlobStore for backends that can
// enumerate what they hold. Store.Sweep uses it to remove orphan blobs
// (written but never indexed, or whose removal failed) and leftovers of
// interrupted writes; a BlobStore without it simply gets no orphan
// collection. NewFileBlobStore's store implements it.
type BlobSweeper interface {
	BlobStore
	// WalkBlobs calls fn for every complete blob with its size and last
	// modification time, in no particular order, stopping at the first
	// error fn returns or when ctx is done. Blobs created or removed during
	// the walk may or may not be reported.
	WalkBlobs(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error
	// RemoveTemps removes the partial content of Creates interrupted by a
	// crash, when last modified before cutoff, and returns how many it
	// removed. A zero cutoff removes all of them; pass it only when no
	// Create can be running, as when the Store opens.
	RemoveTemps(ctx context.Context, cutoff time.Time) (int, error)
}
