package storage

// SweepStats reports what one Store.Sweep pass removed.
type SweepStats struct {
	// StagingObjects is how many expired staging objects (outputs of task
	// attempts never published within Config.StagingMaxAge) were deleted.
	StagingObjects int
	// OrphanBlobs is how many blobs no index entry referenced were removed
	// after Config.OrphanGrace.
	OrphanBlobs int
	// TempFiles is how many leftovers of interrupted blob writes were
	// removed.
	TempFiles int
	// Bytes is the content size freed by the staging and orphan removals.
	Bytes int64
}
