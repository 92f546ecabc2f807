package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Publish moves every object under fromPrefix to toPrefix + the rest of its
// path, in one index transaction, and returns how many objects moved. Blobs
// are not copied. Readers see either all objects at their old paths or all
// at their new ones. Both prefixes name directories: a missing trailing
// slash is added, so "staging/t/1" never matches "staging/t/10/". They must
// not overlap. Objects already at a destination path are replaced and their
// blobs removed. Publishing an empty prefix moves nothing and succeeds, so a
// retried publish is harmless. Asset records of the assets the objects
// leave or enter are updated in the same transaction; a destination under
// assets/ must name a valid asset (ErrInvalidPath otherwise).
//
// The move is bounded by Badger's transaction size (on the order of tens of
// thousands of objects with default options); beyond it Publish fails with
// badger.ErrTxnTooBig and moves nothing.
func (s *Store) Publish(fromPrefix, toPrefix string) (int, error) {
	from, err := dirPrefix(fromPrefix)
	if err != nil {
		return 0, fmt.Errorf("publish from: %w", err)
	}
	to, err := dirPrefix(toPrefix)
	if err != nil {
		return 0, fmt.Errorf("publish to: %w", err)
	}
	if strings.HasPrefix(to, from) || strings.HasPrefix(from, to) {
		return 0, fmt.Errorf("publish %q to %q: prefixes overlap: %w", from, to, ErrInvalidPath)
	}
	if err := checkAssetPrefix(to); err != nil {
		return 0, fmt.Errorf("publish to: %w", err)
	}
	now := s.now()
	var moved int
	var replaced []string
	err = s.update(func(txn *badger.Txn) error {
		moved, replaced = 0, nil
		var ledger assetLedger
		entries, err := scanPrefix(txn, from)
		if err != nil {
			return err
		}
		for _, e := range entries {
			dst := to + strings.TrimPrefix(e.path, from)
			if err := validatePath(dst); err != nil {
				return err
			}
			if err := checkAssetPath(dst); err != nil {
				return err
			}
			obj, err := decodeRecord(e.path, e.value)
			if err != nil {
				return err
			}
			old, err := getObject(txn, dst)
			switch {
			case err == nil:
				replaced = append(replaced, old.BlobID)
				ledger.remove(dst, old.Size)
			case !errors.Is(err, ErrNotFound):
				return err
			}
			ledger.remove(e.path, obj.Size)
			ledger.add(dst, obj.Size)
			if err := txn.Set(objectKey(dst), e.value); err != nil {
				return fmt.Errorf("set %q: %w", dst, err)
			}
			if err := txn.Delete(objectKey(e.path)); err != nil {
				return fmt.Errorf("delete %q: %w", e.path, err)
			}
			moved++
		}
		return ledger.commit(txn, now, s.cfg.NodeID)
	})
	if err != nil {
		return 0, fmt.Errorf("publish %q to %q: %w", from, to, err)
	}
	s.removeBlobs(replaced...)
	s.stats.publishes.Add(1)
	s.stats.publishedObjects.Add(uint64(moved))
	s.log.Info("published", "from", from, "to", to, "objects", moved)
	return moved, nil
}

// scanPrefix returns copies of every object entry under prefix. The scan
// completes before the caller writes, since a read-write transaction allows
// only one open iterator and writes during iteration are not portable.
func scanPrefix(txn *badger.Txn, prefix string) ([]indexEntry, error) {
	key := objectKey(prefix)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: key})
	defer it.Close()
	var entries []indexEntry
	for it.Seek(key); it.ValidForPrefix(key); it.Next() {
		val, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		entries = append(entries, indexEntry{path: pathFromObjectKey(it.Item().Key()), value: val})
	}
	return entries, nil
}
