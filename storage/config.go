package storage

import (
	"errors"
	"fmt"
	"time"
)

// Default values used by DefaultConfig.
const (
	// DefaultChunkSize is the gRPC Get chunk size: large enough to amortise
	// per-message overhead, well under gRPC's 4 MiB default message limit.
	DefaultChunkSize = 256 << 10
	// DefaultListLimit is the page size of List when the caller passes 0.
	DefaultListLimit = 1000
	// maxChunkSize keeps a chunk plus framing under gRPC's 4 MiB default.
	maxChunkSize = 3 << 20
)

// Config configures a Store. Start from DefaultConfig, set Dir, then call
// Validate (Open does so too).
type Config struct {
	// Dir is the root directory: the Badger index lives in Dir/index and
	// blob files in Dir/blobs. Required.
	Dir string
	// ChunkSize is the size of the data chunks the gRPC Get stream sends.
	// Must be positive and at most 3 MiB so messages fit gRPC's default
	// 4 MiB receive limit.
	ChunkSize int
	// ListLimit is the page size List uses when the caller passes 0.
	ListLimit int
	// MaxListLimit caps the page size a caller can ask for, bounding the
	// memory and time of a single List call.
	MaxListLimit int
	// VerifyReads makes gRPC Get check the content's SHA-256 while
	// streaming (DataLoss on mismatch). Blobs are written once and read many
	// times, so the hash is cheap insurance against silent disk corruption
	// reaching published assets.
	VerifyReads bool
	// SyncWrites makes every index commit fsync Badger's log. Blob files are
	// always fsynced before their index entry is written; without this a
	// crash could lose an acknowledged Put or Publish.
	SyncWrites bool
	// GCInterval is how often the background loop runs Badger's value-log
	// GC. Overwrites and Publish rewrite index entries, so stale value-log
	// space must be reclaimed periodically.
	GCInterval time.Duration
	// GCDiscardRatio is passed to badger.DB.RunValueLogGC: a value-log file
	// is rewritten when at least this fraction of it is stale. In (0, 1).
	GCDiscardRatio float64
	// Blobs stores the object content. Nil means local files under
	// Dir/blobs (NewFileBlobStore); set it to plug in another backend such
	// as S3. The Store does not close it.
	Blobs BlobStore
	// Now is the clock used for object modification times; injected so tests
	// can pin time. Nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every field but Dir set to its default.
func DefaultConfig() Config {
	return Config{
		ChunkSize:      DefaultChunkSize,
		ListLimit:      DefaultListLimit,
		MaxListLimit:   10 * DefaultListLimit,
		VerifyReads:    true,
		SyncWrites:     true,
		GCInterval:     5 * time.Minute,
		GCDiscardRatio: 0.5,
		Now:            time.Now,
	}
}

// Validate reports every invalid field, joined into one error.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("dir is required"))
	}
	if c.ChunkSize <= 0 || c.ChunkSize > maxChunkSize {
		errs = append(errs, fmt.Errorf("chunk size %d out of range (0, %d]", c.ChunkSize, maxChunkSize))
	}
	if c.ListLimit <= 0 {
		errs = append(errs, fmt.Errorf("list limit %d must be positive", c.ListLimit))
	}
	if c.MaxListLimit < c.ListLimit {
		errs = append(errs, fmt.Errorf("max list limit %d is below list limit %d", c.MaxListLimit, c.ListLimit))
	}
	if c.GCInterval <= 0 {
		errs = append(errs, fmt.Errorf("gc interval %s must be positive", c.GCInterval))
	}
	if c.GCDiscardRatio <= 0 || c.GCDiscardRatio >= 1 {
		errs = append(errs, fmt.Errorf("gc discard ratio %v out of range (0, 1)", c.GCDiscardRatio))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage config: %w", err)
	}
	return nil
}
