package edge

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// diskCache is the second cache tier: a byte-budgeted LRU of files under
// one directory, filled with objects the memory LRU evicts or cannot hold.
// The index (and so each object's metadata) lives in memory; a JSON sidecar
// next to every data file records the same metadata for operators. Since
// the index is not reloaded, newDiskCache empties the directory: the tier
// is a disposable cache, never a store.
//
// Files are named {sha256(key)}-{generation} in a subdirectory named by the
// hash's first two hex digits. The generation makes a replaced object a new
// file, so a reader that opened the old one keeps consistent bytes and
// metadata while the old file is unlinked under it.
type diskCache struct {
	dir    string
	budget int64
	log    hclog.Logger

	mu    sync.Mutex
	bytes int64
	gen   uint64
	order *list.List // front is most recently used; values are *diskEntry
	items map[string]*list.Element
}

// diskEntry is one object on disk. meta is immutable once indexed.
type diskEntry struct {
	key  string
	path string
	size int64 // charged against the budget: len(key) + data bytes
	meta objectMeta
}

// diskSubdir is the directory inside Config.DiskDir the tier owns; only it
// is emptied at start, so a mistyped --disk-dir never wipes someone else's
// files.
const diskSubdir = "vodfleet-edge-cache"

// newDiskCache creates its own subdirectory of dir, deletes everything in
// it, and returns an empty tier of budget bytes.
func newDiskCache(dir string, budget int64, log hclog.Logger) (*diskCache, error) {
	dir = filepath.Join(dir, diskSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("edge: disk dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("edge: disk dir: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return nil, fmt.Errorf("edge: emptying disk dir: %w", err)
		}
	}
	if len(entries) > 0 {
		log.Info("emptied disk cache", "dir", dir, "entries", len(entries))
	}
	return &diskCache{dir: dir, budget: budget, log: log, order: list.New(), items: make(map[string]*list.Element)}, nil
}

// put writes obj under key, replacing any previous copy, and evicts the
// least recently used files beyond the budget. It blocks for the write, so
// callers run it off the request path. It reports whether obj was stored.
func (d *diskCache) put(key string, obj *Object) bool {
	size := int64(len(key)) + obj.Size()
	if size > d.budget {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	d.mu.Lock()
	d.gen++
	gen := d.gen
	d.mu.Unlock()
	path := filepath.Join(d.dir, name[:2], name+"-"+strconv.FormatUint(gen, 10))
	if err := writeObjectFiles(path, key, obj); err != nil {
		d.log.Warn("disk cache write failed", "key", key, "error", err)
		return false
	}
	var drop []string
	d.mu.Lock()
	if el, ok := d.items[key]; ok {
		drop = append(drop, d.removeElement(el).path)
	}
	d.items[key] = d.order.PushFront(&diskEntry{key: key, path: path, size: size, meta: obj.objectMeta})
	d.bytes += size
	for d.bytes > d.budget {
		drop = append(drop, d.removeElement(d.order.Back()).path)
	}
	d.mu.Unlock()
	d.unlink(drop)
	return true
}

// open returns the file and metadata of key, marking it most recently
// used. The caller closes the file. A file unlinked by a concurrent
// eviction between the index lookup and the open counts as a miss.
func (d *diskCache) open(key string) (*os.File, *objectMeta, bool) {
	d.mu.Lock()
	el, ok := d.items[key]
	if !ok {
		d.mu.Unlock()
		return nil, nil, false
	}
	d.order.MoveToFront(el)
	e := el.Value.(*diskEntry)
	d.mu.Unlock()
	f, err := os.Open(e.path)
	if err != nil {
		return nil, nil, false
	}
	return f, &e.meta, true
}

// has reports whether key is on disk, without touching recency.
func (d *diskCache) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.items[key]
	return ok
}

// remove drops key and its files, if present.
func (d *diskCache) remove(key string) {
	d.mu.Lock()
	el, ok := d.items[key]
	var path string
	if ok {
		path = d.removeElement(el).path
	}
	d.mu.Unlock()
	if ok {
		d.unlink([]string{path})
	}
}

// stats returns the number of objects and the bytes charged.
func (d *diskCache) stats() (objects int, bytes int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.items), d.bytes
}

// removeElement unlinks el from the index; the caller holds mu and deletes
// the files after releasing it.
func (d *diskCache) removeElement(el *list.Element) *diskEntry {
	e := d.order.Remove(el).(*diskEntry)
	delete(d.items, e.key)
	d.bytes -= e.size
	return e
}

// unlink deletes data files and their metadata sidecars.
func (d *diskCache) unlink(paths []string) {
	for _, p := range paths {
		for _, f := range []string{p, p + metaSuffix} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				d.log.Warn("disk cache unlink failed", "file", f, "error", err)
			}
		}
	}
}
