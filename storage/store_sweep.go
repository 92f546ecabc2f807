package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// stagingDir is the path prefix of task outputs awaiting publication, laid
// out as "staging/<task>/<attempt>/<file>".
const stagingDir = "staging/"

// Sweep runs one garbage-collection pass and reports what it removed. The
// background loop calls it every Config.SweepInterval; tests and operators
// can call it directly. Passes are serialized. In order it:
//
//  1. deletes expired staging objects with their blobs: a task attempt's
//     directory ("staging/<task>/<attempt>/") goes once all of its objects
//     are older than Config.StagingMaxAge, in one transaction, so a late
//     Publish of that attempt moves all of its outputs or none;
//  2. removes blobs that no index entry references and that are older than
//     Config.OrphanGrace (crashes between blob write and index commit,
//     failed removals), when the BlobStore is a BlobSweeper;
//  3. removes temp files of interrupted blob writes older than the grace.
//
// Ages are measured with Config.Now. A failing step does not stop the
// others; their errors are joined.
func (s *Store) Sweep(ctx context.Context) (SweepStats, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	var st SweepStats
	errStaging := s.sweepStaging(ctx, &st)
	errOrphans := s.sweepOrphans(ctx, &st)
	s.stats.sweeps.Add(1)
	s.stats.sweptStaging.Add(uint64(st.StagingObjects))
	s.stats.sweptOrphans.Add(uint64(st.OrphanBlobs))
	s.stats.sweptTmp.Add(uint64(st.TempFiles))
	s.stats.sweptBytes.Add(uint64(st.Bytes))
	if st != (SweepStats{}) {
		s.log.Info("sweep removed garbage", "staging_objects", st.StagingObjects,
			"orphan_blobs", st.OrphanBlobs, "temp_files", st.TempFiles, "bytes", st.Bytes)
	}
	if err := errors.Join(errStaging, errOrphans); err != nil {
		return st, fmt.Errorf("sweep: %w", err)
	}
	return st, nil
}

// sweepStaging deletes the expired staging attempt directories.
func (s *Store) sweepStaging(ctx context.Context, st *SweepStats) error {
	cutoff := s.now().Add(-s.cfg.StagingMaxAge)
	groups, err := s.expiredStaging(ctx, cutoff)
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, bytes, err := s.deleteStaging(g, cutoff)
		if err != nil {
			s.log.Warn("delete expired staging failed", "prefix", g, "error", err)
			errs = append(errs, err)
			continue
		}
		st.StagingObjects += n
		st.Bytes += bytes
	}
	return errors.Join(errs...)
}

// expiredStaging returns, in path order, the staging groups (see
// stagingGroup) whose newest object was written before cutoff.
func (s *Store) expiredStaging(ctx context.Context, cutoff time.Time) ([]string, error) {
	var order []string
	newest := make(map[string]time.Time)
	err := s.view(func(txn *badger.Txn) error {
		prefix := objectKey(stagingDir)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			path := pathFromObjectKey(it.Item().Key())
			obj, err := itemObject(it.Item(), path)
			if err != nil {
				return err
			}
			g := stagingGroup(path)
			t, seen := newest[g]
			if !seen {
				order = append(order, g)
			}
			if !seen || obj.ModTime.After(t) {
				newest[g] = obj.ModTime
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan staging: %w", err)
	}
	expired := order[:0]
	for _, g := range order {
		if newest[g].Before(cutoff) {
			expired = append(expired, g)
		}
	}
	return expired, nil
}

// deleteStaging deletes the objects of staging group g in one transaction,
// unless one of them has meanwhile become younger than cutoff, then removes
// their blobs. It returns how many objects and bytes went.
func (s *Store) deleteStaging(g string, cutoff time.Time) (int, int64, error) {
	var blobs []string
	var bytes int64
	err := s.update(func(txn *badger.Txn) error {
		blobs, bytes = nil, 0
		entries, err := scanPrefix(txn, g)
		if err != nil {
			return err
		}
		var objs []Object
		for _, e := range entries {
			if stagingGroup(e.path) != g {
				continue
			}
			obj, err := decodeRecord(e.path, e.value)
			if err != nil {
				return err
			}
			if !obj.ModTime.Before(cutoff) {
				return nil // rewritten since the scan: not expired after all
			}
			objs = append(objs, obj)
		}
		for _, obj := range objs {
			if err := txn.Delete(objectKey(obj.Path)); err != nil {
				return fmt.Errorf("delete %q: %w", obj.Path, err)
			}
			blobs = append(blobs, obj.BlobID)
			bytes += obj.Size
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("delete staging %q: %w", g, err)
	}
	s.removeBlobs(blobs...)
	if len(blobs) > 0 {
		s.log.Debug("expired staging deleted", "prefix", g, "objects", len(blobs))
	}
	return len(blobs), bytes, nil
}

// stagingGroup returns the unit staging objects expire in: the attempt
// directory "staging/<task>/<attempt>/" of a path below one, else the path
// itself.
func stagingGroup(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, stagingDir), "/", 3)
	if len(parts) < 3 {
		return path
	}
	return stagingDir + parts[0] + "/" + parts[1] + "/"
}

// sweepOrphans removes unreferenced blobs and temp files older than the
// grace. The set of referenced blobs is read first, in one snapshot; a blob
// missing from it is either garbage or an upload not yet indexed, and the
// grace tells them apart. Publish and DeleteAsset never make an
// unreferenced blob referenced again, so the snapshot cannot go stale in a
// way that loses data.
func (s *Store) sweepOrphans(ctx context.Context, st *SweepStats) error {
	sw, ok := s.blobs.(BlobSweeper)
	if !ok {
		return nil
	}
	cutoff := s.now().Add(-s.cfg.OrphanGrace)
	refs, err := s.blobRefs(ctx)
	if err != nil {
		return err
	}
	errWalk := sw.WalkBlobs(ctx, func(id string, size int64, modTime time.Time) error {
		if _, ok := refs[id]; ok || !modTime.Before(cutoff) {
			return nil
		}
		if err := sw.Remove(id); err != nil {
			return err
		}
		s.log.Debug("orphan blob removed", "blob", id, "size", size)
		st.OrphanBlobs++
		st.Bytes += size
		return nil
	})
	if errWalk != nil {
		errWalk = fmt.Errorf("remove orphan blobs: %w", errWalk)
	}
	n, errTemps := sw.RemoveTemps(ctx, cutoff)
	st.TempFiles += n
	return errors.Join(errWalk, errTemps)
}

// blobRefs returns the ids of all blobs the index references, read in one
// snapshot. It stops early when ctx is done, so Close is not held up by a
// large index.
func (s *Store) blobRefs(ctx context.Context) (map[string]struct{}, error) {
	refs := make(map[string]struct{})
	err := s.view(func(txn *badger.Txn) error {
		prefix := []byte(objectPrefix)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			obj, err := itemObject(it.Item(), pathFromObjectKey(it.Item().Key()))
			if err != nil {
				return err
			}
			refs[obj.BlobID] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan blob references: %w", err)
	}
	return refs, nil
}
