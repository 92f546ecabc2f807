package storage

import (
	"errors"
	"fmt"
	"os"
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
	// maxNodeIDLen bounds Config.NodeID, which is stored in every asset
	// record.
	maxNodeIDLen = 255
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
	// NodeID names this storage node in asset records (AssetInfo.Node), so
	// a fleet-wide asset listing shows where each asset lives. Defaults to
	// the host name; at most 255 bytes.
	NodeID string
	// SweepInterval is how often the background loop runs Sweep: expired
	// staging objects and orphan blobs are removed at this pace.
	SweepInterval time.Duration
	// StagingMaxAge is how long unpublished staging objects are kept. A task
	// attempt's outputs that were never published (the attempt failed, its
	// lease expired, its completion was refused) are deleted once every
	// object of the attempt is older than this.
	StagingMaxAge time.Duration
	// OrphanGrace is the minimum age of a blob that no index entry names
	// before Sweep removes it, and of a leftover temp file. A Put writes its
	// blob before indexing it, so a blob being uploaded right now is not yet
	// referenced; the grace must exceed the longest gap between a blob's
	// last write and its index commit (milliseconds in practice).
	OrphanGrace time.Duration
	// Now is the clock used for object modification times, asset update
	// times and every age Sweep compares; injected so tests can pin or move
	// time. Nil means time.Now.
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
		NodeID:         defaultNodeID(),
		SweepInterval:  time.Minute,
		StagingMaxAge:  24 * time.Hour,
		OrphanGrace:    time.Hour,
		Now:            time.Now,
	}
}

// defaultNodeID is the host name, or "storage" when it is unavailable.
func defaultNodeID() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "storage"
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
	if c.NodeID == "" || len(c.NodeID) > maxNodeIDLen {
		errs = append(errs, fmt.Errorf("node id %q must be 1 to %d bytes", c.NodeID, maxNodeIDLen))
	}
	if c.SweepInterval <= 0 {
		errs = append(errs, fmt.Errorf("sweep interval %s must be positive", c.SweepInterval))
	}
	if c.StagingMaxAge <= 0 {
		errs = append(errs, fmt.Errorf("staging max age %s must be positive", c.StagingMaxAge))
	}
	if c.OrphanGrace <= 0 {
		errs = append(errs, fmt.Errorf("orphan grace %s must be positive", c.OrphanGrace))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage config: %w", err)
	}
	return nil
}
