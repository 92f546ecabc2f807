package edge

import (
	"container/list"
	"sync"
)

// LRU is a byte-budgeted least-recently-used cache of Objects, safe for
// concurrent use. An entry costs len(key)+len(data) bytes; adding evicts the
// oldest entries until the total is within budget. A budget in bytes rather
// than entries matters because segments range from kilobytes to megabytes.
type LRU struct {
	mu     sync.Mutex
	budget int64
	bytes  int64
	order  *list.List // front is most recently used; values are *lruEntry
	items  map[string]*list.Element
}

// lruEntry is the list payload; the key is kept so eviction can delete the
// map entry.
type lruEntry struct {
	key  string
	obj  *Object
	size int64
}

// NewLRU returns an empty cache holding at most budget bytes. A budget of
// zero or less stores nothing.
func NewLRU(budget int64) *LRU {
	return &LRU{budget: budget, order: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the object stored under key and marks it most recently used.
func (c *LRU) Get(key string) (*Object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry).obj, true
}

// Add stores obj under key, replacing any previous entry, and evicts the
// oldest entries until the cache fits its budget. It reports whether obj was
// stored: an object larger than the whole budget is not (and any previous
// entry under key is dropped, as it is stale).
func (c *LRU) Add(key string, obj *Object) bool {
	size := int64(len(key)) + obj.Size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	if size > c.budget {
		return false
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, obj: obj, size: size})
	c.bytes += size
	for c.bytes > c.budget {
		c.removeElement(c.order.Back())
	}
	return true
}

// Remove drops the entry under key, if any; used when the origin says an
// object is gone.
func (c *LRU) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// Len returns the number of cached objects.
func (c *LRU) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Bytes returns the bytes currently charged against the budget.
func (c *LRU) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// removeElement unlinks el; the caller holds mu.
func (c *LRU) removeElement(el *list.Element) {
	e := c.order.Remove(el).(*lruEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
}
