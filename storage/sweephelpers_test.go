package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/clock"
)

// newFakeClock returns a fake clock at the current real time, because
// blob ages come from file modification times.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Now()) }

// sweepConfig is a test config driven by clock, with the defaults' ages.
func sweepConfig(t *testing.T, clock *clock.Fake) Config {
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
