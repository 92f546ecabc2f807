package edge

// Stats is a snapshot of an edge node's counters, for metrics and tests.
type Stats struct {
	// Hits counts object requests answered from memory.
	Hits uint64
	// Misses counts object requests that had to wait on the origin,
	// including requests that joined another request's fetch.
	Misses uint64
	// OriginFetches counts requests actually sent to the origin; with
	// coalescing it can be far below Misses.
	OriginFetches uint64
	// CachedObjects is the number of objects in the memory cache.
	CachedObjects int
	// CachedBytes is the bytes charged against MemoryBytes.
	CachedBytes int64
}
