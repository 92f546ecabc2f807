package edge

// Cache is the seam between the Fetcher and a cache tier. The Fetcher checks
// it again inside a coalesced fetch, so a request that missed just before
// another fetch completed does not go to the origin a second time, and
// fills it before the fetch is released. *LRU implements it; a disk tier can
// later be stacked behind the same interface.
type Cache interface {
	// Get returns the object under key, if cached.
	Get(key string) (*Object, bool)
	// Add stores obj under key and reports whether it was kept.
	Add(key string, obj *Object) bool
	// Remove drops key, used when the origin reports the object is gone.
	Remove(key string)
}
