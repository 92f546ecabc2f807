package storage

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// every runs f each interval until ctx ends (Close), then marks the
// background goroutine done.
func (s *Store) every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	defer s.background.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// runValueLogGC rewrites value-log files until Badger finds none worth it.
func (s *Store) runValueLogGC(ctx context.Context) {
	s.stats.valueLogGCs.Add(1)
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

// sweepOnce runs one Sweep; failures are logged and the next pass retries.
func (s *Store) sweepOnce(ctx context.Context) {
	if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("sweep failed", "error", err)
	}
}
