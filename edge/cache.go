package edge

// Cache is the seam between the Fetcher and a cache tier. The Fetcher checks
// it again inside a coalesced fetch, so a request that missed just before
// another fetch completed does not go to the origin a second time, and
// fills it before the fetch is released. *LRU implements it, and so does
// the Server's memory-over-disk stack.
type Cache interface {
	// Get returns the object under key, if cached.
	Get(key string) (*Object, bool)
	// Add stores obj under key and reports whether it was kept.
	Add(key string, obj *Object) bool
	// Remove drops key, used when the origin reports the object is gone.
	Remove(key string)
}

// stagedCache is a Cache whose Add has a slow part that need not hold up a
// flight's waiters: stage makes obj visible to lookups at once and returns
// the rest (disk writes) for the Fetcher to run after releasing them.
type stagedCache interface {
	Cache
	stage(key string, obj *Object) (stored bool, spill func())
}
