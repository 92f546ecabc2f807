package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// maxConflictRetries bounds how often an index transaction is retried after
// a Badger conflict with a concurrent writer of the same keys.
const maxConflictRetries = 10

// Store is the object store: a Badger index of paths over a BlobStore. It is
// safe for concurrent use. See the package comment for the model and keys.go
// for the index layout.
type Store struct {
	cfg   Config
	log   hclog.Logger
	db    *badger.DB
	blobs BlobStore
	now   func() time.Time

	// mu is held shared by index operations and exclusively by Close, so
	// no transaction runs on a closed Badger.
	mu     sync.RWMutex
	closed bool

	// sweepMu serializes Sweep passes.
	sweepMu sync.Mutex

	// stopBackground cancels the value-log GC and sweep loops; background
	// tracks them so Close can wait for both.
	stopBackground context.CancelFunc
	background     sync.WaitGroup

	// stats feed the Prometheus metrics (metrics.go).
	stats storeStats
}

// Open validates cfg, opens (or creates) the store in cfg.Dir and starts the
// background loops: Badger value-log GC every Config.GCInterval and Sweep
// every Config.SweepInterval. With the default file BlobStore it first
// removes temp files left by blob writes a crash interrupted (Badger's
// directory lock guarantees no other Store is writing there), and it builds
// the asset records of an index that predates them. Close releases it.
func Open(cfg Config, log hclog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("storage")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	blobs := cfg.Blobs
	if blobs == nil {
		var err error
		if blobs, err = NewFileBlobStore(filepath.Join(cfg.Dir, "blobs")); err != nil {
			return nil, err
		}
	}
	opts := badger.DefaultOptions(filepath.Join(cfg.Dir, "index")).
		WithLogger(badgerLogger{log: log.Named("badger")}).
		WithSyncWrites(cfg.SyncWrites)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	s := &Store{cfg: cfg, log: log, db: db, blobs: blobs, now: cfg.Now}
	if err := s.repair(); err != nil {
		_ = db.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBackground = cancel
	s.background.Add(2)
	go s.every(ctx, s.cfg.GCInterval, s.runValueLogGC) // value-log space
	go s.every(ctx, s.cfg.SweepInterval, s.sweepOnce)  // staging, orphans, temps
	log.Info("store opened", "dir", cfg.Dir, "node", cfg.NodeID)
	return s, nil
}

// repair fixes what a crash can leave behind before the Store is used:
// temp files of interrupted blob writes (only in the default blob tree,
// which this process owns exclusively) and missing asset records. Orphan
// blobs are left to Sweep, which needs the grace period.
func (s *Store) repair() error {
	if fb, ok := s.blobs.(*fileBlobs); ok && s.cfg.Blobs == nil {
		n, err := fb.RemoveTemps(context.Background(), time.Time{})
		if err != nil {
			return fmt.Errorf("remove stale blob temp files: %w", err)
		}
		if n > 0 {
			s.log.Info("removed temp files of interrupted blob writes", "files", n)
		}
	}
	return s.ensureAssetRecords()
}

// Close stops the background loops and closes the index. In-flight operations finish
// first; later ones fail with ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.stopBackground()
	s.background.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close index: %w", err)
	}
	s.log.Info("store closed")
	return nil
}

// Stat returns the metadata of the object at path, or an error wrapping
// ErrNotFound.
func (s *Store) Stat(path string) (Object, error) {
	if err := validatePath(path); err != nil {
		return Object{}, err
	}
	var obj Object
	err := s.view(func(txn *badger.Txn) error {
		var err error
		obj, err = getObject(txn, path)
		return err
	})
	if err != nil {
		return Object{}, fmt.Errorf("stat %q: %w", path, err)
	}
	return obj, nil
}

// List returns up to limit objects whose path starts with prefix and sorts
// after startAfter, in path order. limit <= 0 means Config.ListLimit; it is
// capped at Config.MaxListLimit. Page by passing the last path returned as
// the next startAfter.
func (s *Store) List(prefix, startAfter string, limit int) ([]Object, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if limit <= 0 {
		limit = s.cfg.ListLimit
	}
	limit = min(limit, s.cfg.MaxListLimit)
	prefixKey := objectKey(prefix)
	seek := prefixKey
	if startAfter > prefix {
		seek = objectKey(startAfter)
	}
	var objs []Object
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: min(limit, 100), Prefix: prefixKey})
		defer it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefixKey) && len(objs) < limit; it.Next() {
			path := pathFromObjectKey(it.Item().Key())
			if path <= startAfter {
				continue
			}
			obj, err := itemObject(it.Item(), path)
			if err != nil {
				return err
			}
			objs = append(objs, obj)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	return objs, nil
}

// view runs fn in a read-only index transaction.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(fn)
}

// update runs fn in a read-write index transaction, re-running it when it
// conflicts with a concurrent transaction; fn must reset any state it
// collects.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	for attempt := 0; ; attempt++ {
		err := s.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		return err
	}
}

// getObject reads the object at path inside txn.
func getObject(txn *badger.Txn, path string) (Object, error) {
	item, err := txn.Get(objectKey(path))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Object{}, ErrNotFound
	}
	if err != nil {
		return Object{}, fmt.Errorf("read index: %w", err)
	}
	return itemObject(item, path)
}

// itemObject decodes an index item's value.
func itemObject(item *badger.Item, path string) (Object, error) {
	var obj Object
	err := item.Value(func(v []byte) error {
		var err error
		obj, err = decodeRecord(path, v)
		return err
	})
	return obj, err
}
