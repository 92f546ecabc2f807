package storage

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// assetLedger collects, during one index transaction, how each asset's
// object count and byte total change, and writes the asset records in that
// same transaction (commit). Every write path that adds, replaces or
// removes object keys records its changes here, so asset records can never
// disagree with the object keys, whatever crashes or retries happen. Badger
// detects conflicts on the record reads, so concurrent writers to one asset
// serialize instead of losing updates. The zero value is ready to use; use
// a fresh ledger per transaction attempt.
type assetLedger struct {
	deltas map[string]*assetDelta
}

// assetDelta is the pending change to one asset record.
type assetDelta struct {
	objects, bytes int64
}

// add records that an object of size bytes now exists at path.
func (l *assetLedger) add(path string, size int64) { l.change(path, 1, size) }

// remove records that the object of size bytes at path is gone. Replacing
// an object is a remove of the old one plus an add of the new one, so it
// changes the byte total but not the count.
func (l *assetLedger) remove(path string, size int64) { l.change(path, -1, -size) }

// change applies a delta to the asset of path, if it belongs to one.
func (l *assetLedger) change(path string, objects, bytes int64) {
	id, ok := assetOf(path)
	if !ok {
		return
	}
	if l.deltas == nil {
		l.deltas = make(map[string]*assetDelta)
	}
	d := l.deltas[id]
	if d == nil {
		d = &assetDelta{}
		l.deltas[id] = d
	}
	d.objects += objects
	d.bytes += bytes
}

// commit writes the changed asset records in txn: every touched asset gets
// its counts adjusted, now as its update time and node as its node; an
// asset left without objects loses its record.
func (l *assetLedger) commit(txn *badger.Txn, now time.Time, node string) error {
	for id, d := range l.deltas {
		rec, found, err := getAssetRecord(txn, id)
		if err != nil {
			return err
		}
		rec.Objects += d.objects
		rec.Bytes += d.bytes
		if rec.Objects <= 0 {
			if found {
				if err := txn.Delete(assetKey(id)); err != nil {
					return fmt.Errorf("delete asset record %q: %w", id, err)
				}
			}
			continue
		}
		rec.UpdatedAt = now.UnixNano()
		rec.Node = node
		val, err := encodeAssetRecord(rec)
		if err != nil {
			return err
		}
		if err := txn.Set(assetKey(id), val); err != nil {
			return fmt.Errorf("set asset record %q: %w", id, err)
		}
	}
	return nil
}
