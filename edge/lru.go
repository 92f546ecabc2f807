package edge

import (
	"container/list"
	"sync"
)

// LRU is a byte-budgeted least-recently-used cache of Objects, safe for
// concurrent use. An entry costs len(key)+len(data) bytes; adding evicts the
// oldest entries until the total is within budget. A budget in bytes rather
// than entries matters because segments range from kilobytes to megabytes.
//
// Hits take only the read lock. An entry already among the most recently
// used quarter is not moved again, so the hot set of a busy edge does not
// serialise on the write lock; eviction order is exact for entries outside
// that quarter, which are the only ones eviction can reach soon.
type LRU struct {
	mu     sync.RWMutex
	budget int64
	bytes  int64
	order  *list.List // front is most recently used; values are *lruEntry
	items  map[string]*list.Element
	// tick counts moves to the front; an entry's stamp is the tick of its
	// last move, so tick-stamp bounds how many entries are ahead of it.
	tick uint64
}

// lruEntry is the list payload; the key is kept so eviction can delete the
// map entry.
type lruEntry struct {
	key   string
	obj   *Object
	size  int64
	stamp uint64
}

// NewLRU returns an empty cache holding at most budget bytes. A budget of
// zero or less stores nothing.
func NewLRU(budget int64) *LRU {
	return &LRU{budget: budget, order: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the object stored under key and marks it most recently used.
func (c *LRU) Get(key string) (*Object, bool) {
	c.mu.RLock()
	el, ok := c.items[key]
	if !ok {
		c.mu.RUnlock()
		return nil, false
	}
	e := el.Value.(*lruEntry)
	obj := e.obj
	recent := c.tick-e.stamp <= uint64(len(c.items)/4)
	c.mu.RUnlock()
	if !recent {
		c.mu.Lock()
		if cur, ok := c.items[key]; ok && cur == el {
			c.tick++
			e.stamp = c.tick
			c.order.MoveToFront(el)
		}
		c.mu.Unlock()
	}
	return obj, true
}

// Add stores obj under key, replacing any previous entry, and evicts the
// oldest entries until the cache fits its budget. It reports whether obj was
// stored: an object larger than the whole budget is not (and any previous
// entry under key is dropped, as it is stale).
func (c *LRU) Add(key string, obj *Object) bool {
	stored, _ := c.add(key, obj)
	return stored
}

// add is Add that also returns the entries evicted to make room (not one
// replaced under key), which the memory tier spills to disk.
func (c *LRU) add(key string, obj *Object) (stored bool, evicted []*lruEntry) {
	size := int64(len(key)) + obj.Size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	if size > c.budget {
		return false, nil
	}
	c.tick++
	c.items[key] = c.order.PushFront(&lruEntry{key: key, obj: obj, size: size, stamp: c.tick})
	c.bytes += size
	for c.bytes > c.budget {
		evicted = append(evicted, c.removeElement(c.order.Back()))
	}
	return true, evicted
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
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Bytes returns the bytes currently charged against the budget.
func (c *LRU) Bytes() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}

// removeElement unlinks el and returns its entry; the caller holds mu.
func (c *LRU) removeElement(el *list.Element) *lruEntry {
	e := c.order.Remove(el).(*lruEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
	return e
}
