package storage

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// gcLoop periodically reclaims stale value-log space until Close.
func (s *Store) gcLoop(ctx context.Context) {
	defer s.background.Done()
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

// sweepLoop runs Sweep every Config.SweepInterval until Close. Failures are
// logged; the next pass retries.
func (s *Store) sweepLoop(ctx context.Context) {
	defer s.background.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("sweep failed", "error", err)
			}
		}
	}
}
