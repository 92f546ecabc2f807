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

	stopGC context.CancelFunc
	gcDone chan struct{}
}

// Open validates cfg, opens (or creates) the store in cfg.Dir and starts the
// background value-log GC loop. Close releases it.
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
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:    cfg,
		log:    log,
		db:     db,
		blobs:  blobs,
		now:    cfg.Now,
		stopGC: cancel,
		gcDone: make(chan struct{}),
	}
	go s.gcLoop(ctx)
	log.Info("store opened", "dir", cfg.Dir)
	return s, nil
}

// Close stops the GC loop and closes the index. In-flight operations finish
// first; later ones fail with ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.stopGC()
	<-s.gcDone
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

// gcLoop periodically reclaims stale value-log space until Close.
func (s *Store) gcLoop(ctx context.Context) {
	defer close(s.gcDone)
	t := time.NewTicker(s.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.runValueLogGC(ctx)
		}
	}
}

// runValueLogGC rewrites value-log files until Badger finds none worth it.
func (s *Store) runValueLogGC(ctx context.Context) {
	for rewrites := 0; ctx.Err() == nil; rewrites++ {
		err := s.db.RunValueLogGC(s.cfg.GCDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			if rewrites > 0 {
				s.log.Debug("value log gc done", "rewrites", rewrites)
			}
		default:
			s.log.Warn("value log gc failed", "error", err)
		}
		return
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
