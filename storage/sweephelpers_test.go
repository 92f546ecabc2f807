package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for sweep tests. It starts at the real
// time, because blob ages come from file modification times.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock returns a clock at the current real time.
func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sweepConfig is a test config driven by clock, with the defaults' ages.
func sweepConfig(t *testing.T, clock *fakeClock) Config {
	cfg := testConfig(t)
	cfg.Now = clock.Now
	return cfg
}

// mustSweep runs one sweep and returns its stats.
func mustSweep(t *testing.T, s *Store) SweepStats {
	t.Helper()
	st, err := s.Sweep(context.Background())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return st
}

// exists reports whether the file at path exists.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// mustVerify reads path back through OpenVerified and compares it to want.
func mustVerify(t *testing.T, s *Store, path string, want []byte) {
	t.Helper()
	_, rc, err := s.OpenVerified(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, want) {
		t.Fatalf("%s: content differs", path)
	}
}
