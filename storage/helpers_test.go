package storage

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// testTime is the pinned clock of test stores.
var testTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// testLogger logs to stderr under -v and discards otherwise.
func testLogger() hclog.Logger {
	out := io.Discard
	if testing.Verbose() {
		out = os.Stderr
	}
	return hclog.New(&hclog.LoggerOptions{Name: "test", Output: out, Level: hclog.Debug})
}

// testConfig returns a config for a store in a fresh temp dir.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.SyncWrites = false
	cfg.GCInterval = 20 * time.Millisecond
	cfg.Now = func() time.Time { return testTime }
	return cfg
}

// openStore opens a store with cfg and closes it at cleanup.
func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg, testLogger())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// mustPut stores data at path or fails the test.
func mustPut(t *testing.T, s *Store, path string, data []byte) Object {
	t.Helper()
	obj, err := s.Put(context.Background(), path, "", int64(len(data)), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("put %s: %v", path, err)
	}
	return obj
}

// blobPath returns the on-disk file of obj in a store using file blobs.
func blobPath(s *Store, obj Object) string {
	return filepath.Join(s.cfg.Dir, "blobs", obj.BlobID[:2], obj.BlobID)
}

// flipByte corrupts the blob of obj in place.
func flipByte(t *testing.T, s *Store, obj Object, off int64) {
	t.Helper()
	f, err := os.OpenFile(blobPath(s, obj), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
