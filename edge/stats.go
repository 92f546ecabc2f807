package edge

// Stats is a snapshot of an edge node's counters, for metrics and tests.
type Stats struct {
	// Hits counts object requests answered from a cache tier (memory or
	// disk) without asking the origin.
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
	// CoalescedWaits counts misses that joined a fetch another request had
	// already started, instead of starting their own.
	CoalescedWaits uint64
	// DiskHits counts the Hits served from the disk tier.
	DiskHits uint64
	// StaleServed counts expired copies served because the origin failed.
	StaleServed uint64
	// DiskObjects is the number of objects in the disk tier.
	DiskObjects int
	// DiskBytes is the bytes charged against DiskBytes.
	DiskBytes int64
	// BytesSent counts response body bytes written to clients.
	BytesSent uint64
}
