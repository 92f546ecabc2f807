package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Put stores the content of r at path and returns the new object.
//
// contentType empty means ContentType(path). expectedSize is the announced
// length, or -1 when unknown; any other mismatch fails with ErrSizeMismatch.
// The blob is written and made durable first, then the index entry is
// committed, so a crash or error never leaves an entry without content.
// Overwriting a path replaces the object atomically and then removes the old
// blob. On error nothing is stored.
func (s *Store) Put(ctx context.Context, path, contentType string, expectedSize int64, r io.Reader) (Object, error) {
	if err := validatePath(path); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
	}
	if err := checkAssetPath(path); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
	}
	if expectedSize < -1 {
		return Object{}, fmt.Errorf("put %q: expected size %d is negative: %w", path, expectedSize, ErrSizeMismatch)
	}
	if contentType == "" {
		contentType = ContentType(path)
	}
	if expectedSize >= 0 {
		r = &sizeCheckReader{r: r, expected: expectedSize}
	}
	log := s.log.With("path", path)
	info, err := s.blobs.Create(ctx, r)
	if err != nil {
		return Object{}, fmt.Errorf("put %q: %w", path, err)
	}
	obj := Object{
		Path:        path,
		BlobID:      info.ID,
		Size:        info.Size,
		SHA256:      info.SHA256,
		ContentType: contentType,
		ModTime:     s.now().Round(0).UTC(), // as decodeRecord returns it
	}
	old, err := s.index(obj)
	if err != nil {
		if rmErr := s.blobs.Remove(info.ID); rmErr != nil {
			log.Warn("remove unindexed blob failed", "blob", info.ID, "error", rmErr)
		}
		return Object{}, fmt.Errorf("put %q: %w", path, err)
	}
	if old != "" {
		s.removeBlobs(old)
	}
	s.stats.putBytes.Add(uint64(obj.Size))
	s.stats.putObjects.Add(1)
	log.Debug("object stored", "size", obj.Size, "blob", obj.BlobID)
	return obj, nil
}

// index commits obj's index entry, with its asset record when obj belongs
// to an asset, and returns the blob id of the object it replaced, if any.
func (s *Store) index(obj Object) (replaced string, err error) {
	val, err := encodeRecord(newRecord(obj))
	if err != nil {
		return "", err
	}
	err = s.update(func(txn *badger.Txn) error {
		replaced = ""
		var ledger assetLedger
		old, err := getObject(txn, obj.Path)
		switch {
		case err == nil:
			replaced = old.BlobID
			ledger.remove(old.Path, old.Size)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if err := txn.Set(objectKey(obj.Path), val); err != nil {
			return err
		}
		ledger.add(obj.Path, obj.Size)
		return ledger.commit(txn, obj.ModTime, s.cfg.NodeID)
	})
	if err != nil {
		return "", fmt.Errorf("index: %w", err)
	}
	return replaced, nil
}

// removeBlobs deletes blobs no longer referenced by the index. Failures only
// leak space until Sweep removes the orphan, so they are logged rather than
// returned: the index change they follow has already committed.
func (s *Store) removeBlobs(ids ...string) {
	for _, id := range ids {
		if err := s.blobs.Remove(id); err != nil {
			s.log.Warn("remove unreferenced blob failed", "blob", id, "error", err)
		}
	}
}
