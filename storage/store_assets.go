package storage

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ListAssets returns up to limit assets whose id sorts after startAfter, in
// id order. limit <= 0 means Config.ListLimit; it is capped at
// Config.MaxListLimit. Page by passing the last id returned as the next
// startAfter. The summaries come from the asset records, so listing costs
// one index read per asset however many objects each holds.
func (s *Store) ListAssets(startAfter string, limit int) ([]AssetInfo, error) {
	if limit <= 0 {
		limit = s.cfg.ListLimit
	}
	limit = min(limit, s.cfg.MaxListLimit)
	prefix := []byte(assetPrefix)
	seek := assetKey(startAfter)
	var assets []AssetInfo
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: min(limit, 100), Prefix: prefix})
		defer it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefix) && len(assets) < limit; it.Next() {
			id := idFromAssetKey(it.Item().Key())
			if id <= startAfter {
				continue
			}
			var rec assetRecord
			err := it.Item().Value(func(v []byte) error {
				var err error
				rec, err = decodeAssetRecord(id, v)
				return err
			})
			if err != nil {
				return err
			}
			assets = append(assets, rec.info(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	return assets, nil
}

// DeleteAsset removes asset id and returns how many objects it held. Every
// object key under "assets/<id>/" and the asset record are deleted in one
// index transaction, so readers see the whole asset or none of it: once
// DeleteAsset returns, every object of the asset is ErrNotFound (404 at the
// HTTP origin). The blobs are removed afterwards; any that fail to go are
// orphans for Sweep. An unknown asset is ErrNotFound, an invalid id
// ErrInvalidPath. Like Publish, the delete is bounded by Badger's
// transaction size (tens of thousands of objects with default options);
// beyond it DeleteAsset fails with badger.ErrTxnTooBig and deletes nothing.
func (s *Store) DeleteAsset(id string) (int, error) {
	if err := validateAssetID(id); err != nil {
		return 0, fmt.Errorf("delete asset: %w", err)
	}
	var blobs []string
	var bytes int64
	err := s.update(func(txn *badger.Txn) error {
		blobs, bytes = nil, 0
		entries, err := scanPrefix(txn, assetObjects(id))
		if err != nil {
			return err
		}
		_, found, err := getAssetRecord(txn, id)
		if err != nil {
			return err
		}
		if len(entries) == 0 && !found {
			return ErrNotFound
		}
		for _, e := range entries {
			obj, err := decodeRecord(e.path, e.value)
			if err != nil {
				return err
			}
			if err := txn.Delete(objectKey(e.path)); err != nil {
				return fmt.Errorf("delete %q: %w", e.path, err)
			}
			blobs = append(blobs, obj.BlobID)
			bytes += obj.Size
		}
		if !found {
			return nil
		}
		return txn.Delete(assetKey(id))
	})
	if err != nil {
		return 0, fmt.Errorf("delete asset %q: %w", id, err)
	}
	s.removeBlobs(blobs...)
	s.log.Info("asset deleted", "asset", id, "objects", len(blobs), "bytes", bytes)
	return len(blobs), nil
}
