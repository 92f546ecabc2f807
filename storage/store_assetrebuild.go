package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ensureAssetRecords builds the asset records from the object keys unless
// the m/asset-records marker says they are complete (see keys.go). It runs
// in Open before the Store is shared, so no writer races it. An index made
// before asset records existed thus gets them on its first Open; a new
// index just gets the marker. The records are written in batches (an
// upgraded index may hold more than one transaction can), then the marker
// in its own commit, so a crash before the marker makes the next Open
// rebuild from scratch.
func (s *Store) ensureAssetRecords() error {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(assetRecordsMarker))
		return err
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("read asset marker: %w", err)
	}
	recs, stale, err := s.scanAssetTotals()
	if err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, key := range stale {
		if err := wb.Delete(key); err != nil {
			return fmt.Errorf("rebuild asset records: %w", err)
		}
	}
	for id, rec := range recs {
		val, err := encodeAssetRecord(*rec)
		if err != nil {
			return err
		}
		if err := wb.Set(assetKey(id), val); err != nil {
			return fmt.Errorf("rebuild asset records: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("rebuild asset records: %w", err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(assetRecordsMarker), []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("write asset marker: %w", err)
	}
	if len(recs) > 0 {
		s.log.Info("asset records rebuilt", "assets", len(recs))
	}
	return nil
}

// scanAssetTotals sums the object keys under assets/ per asset (update time
// = newest object) and lists the asset record keys of assets without
// objects, left by an interrupted earlier rebuild.
func (s *Store) scanAssetTotals() (map[string]*assetRecord, [][]byte, error) {
	recs := make(map[string]*assetRecord)
	var stale [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		if err := s.sumAssets(txn, recs); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(assetPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if _, ok := recs[idFromAssetKey(it.Item().Key())]; !ok {
				stale = append(stale, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("scan assets: %w", err)
	}
	return recs, stale, nil
}

// sumAssets adds every object under assets/ to the record of its asset.
func (s *Store) sumAssets(txn *badger.Txn, recs map[string]*assetRecord) error {
	prefix := objectKey(assetsDir)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		path := pathFromObjectKey(it.Item().Key())
		id, ok := assetOf(path)
		if !ok {
			continue
		}
		obj, err := itemObject(it.Item(), path)
		if err != nil {
			return err
		}
		rec := recs[id]
		if rec == nil {
			rec = &assetRecord{Node: s.cfg.NodeID}
			recs[id] = rec
		}
		rec.Objects++
		rec.Bytes += obj.Size
		rec.UpdatedAt = max(rec.UpdatedAt, obj.ModTime.UnixNano())
	}
	return nil
}
