package edge

// tiers stacks the memory LRU over the optional disk tier behind the Cache
// seam the Fetcher fills. Objects enter memory; those memory cannot hold
// (too big for its budget, or evicted to make room) are written to disk.
// Disk writes happen on the goroutine that calls Add or runs stage's
// spill, which for the Fetcher is the shared fetch goroutine, never a
// player's request. An evicted object is briefly in neither tier while it
// is written; a request in that window refetches it from the origin.
type tiers struct {
	mem  *LRU
	disk *diskCache // nil when the disk tier is off
}

// newTiers builds the memory tier with memBytes over disk, which may be
// nil.
func newTiers(memBytes int64, disk *diskCache) *tiers {
	return &tiers{mem: NewLRU(memBytes), disk: disk}
}

// Get looks in memory only: disk hits are served from the open file by
// the Server, not loaded back into memory.
func (t *tiers) Get(key string) (*Object, bool) { return t.mem.Get(key) }

// Add stores obj in memory, or on disk if memory cannot hold it.
func (t *tiers) Add(key string, obj *Object) bool {
	stored, spill := t.stage(key, obj)
	spill()
	return stored
}

// stage puts obj in memory, where lookups see it at once, and returns the
// disk work still owed: writing the entries memory evicted, and obj itself
// if memory refused it, or dropping an older disk copy of key if memory
// took it. The Fetcher runs spill after releasing the flight's waiters.
// stored reports whether obj is (or, once spill ran, will be) cached.
func (t *tiers) stage(key string, obj *Object) (stored bool, spill func()) {
	inMemory, evicted := t.mem.add(key, obj)
	if t.disk == nil {
		return inMemory, func() {}
	}
	return true, func() {
		if !inMemory {
			t.disk.put(key, obj)
		} else if t.disk.has(key) {
			t.disk.remove(key)
		}
		for _, e := range evicted {
			t.disk.put(e.key, e.obj)
		}
	}
}

// Remove drops key from both tiers.
func (t *tiers) Remove(key string) {
	t.mem.Remove(key)
	if t.disk != nil {
		t.disk.remove(key)
	}
}

// diskStats returns the disk tier's objects and bytes, zero when it is off.
func (t *tiers) diskStats() (objects int, bytes int64) {
	if t.disk == nil {
		return 0, 0
	}
	return t.disk.stats()
}
