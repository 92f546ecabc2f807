package edge

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that drops the body and reuses one
// header map, so benchmarks measure the edge and not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// hitFixture returns a Server with path cached in memory, a request for it
// and a writer to serve it into.
func hitFixture(tb testing.TB, path string, data []byte, mutate func(*Config)) (*Server, *http.Request, *discardWriter) {
	tb.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", originModTime, bytes.NewReader(data))
	}))
	tb.Cleanup(origin.Close)
	cfg := DefaultConfig()
	cfg.Origin = origin.URL
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	r := httptest.NewRequest("GET", path, nil)
	w := &discardWriter{h: make(http.Header)}
	s.ServeHTTP(w, r) // miss: fills the cache
	clear(w.h)
	s.ServeHTTP(w, r)
	if w.code != 200 || w.h.Get("X-Cache") != "HIT" {
		tb.Fatalf("warm-up: status %d, X-Cache %q", w.code, w.h.Get("X-Cache"))
	}
	return s, r, w
}

func benchHit(b *testing.B, path string, size int, mutate func(*Config)) {
	s, r, w := hitFixture(b, path, bytes.Repeat([]byte("x"), size), mutate)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, r)
	}
}

// BenchmarkHit1MB serves a 1 MiB segment from memory.
func BenchmarkHit1MB(b *testing.B) {
	benchHit(b, "/v/a1/v0/seg-1.m4s", 1<<20, nil)
}

// BenchmarkHitPlaylist serves a 1 KiB playlist from memory.
func BenchmarkHitPlaylist(b *testing.B) {
	benchHit(b, "/v/a1/v0/index.m3u8", 1<<10, func(c *Config) { c.PlaylistMaxAge = time.Hour })
}

// BenchmarkHitPlaylistSigned adds token verification to the playlist hit.
func BenchmarkHitPlaylistSigned(b *testing.B) {
	path := SignedPath(testKey, "a1", time.Now().Add(time.Hour)) + "v0/index.m3u8"
	benchHit(b, path, 1<<10, func(c *Config) {
		c.PlaylistMaxAge = time.Hour
		c.SigningKey = testKey
	})
}

// BenchmarkHitPlaylistParallel serves the playlist from all CPUs at once,
// which exercises the LRU's read path under contention.
func BenchmarkHitPlaylistParallel(b *testing.B) {
	s, r, _ := hitFixture(b, "/v/a1/v0/index.m3u8", make([]byte, 1<<10), func(c *Config) { c.PlaylistMaxAge = time.Hour })
	b.SetBytes(1 << 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			s.ServeHTTP(w, r)
		}
	})
}

func TestHitPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for name, mutate := range map[string]func(*Config){
		"plain":  nil,
		"signed": func(c *Config) { c.SigningKey = testKey },
	} {
		path := "/v/a1/seg.m4s"
		if mutate != nil {
			path = SignedPath(testKey, "a1", time.Now().Add(time.Hour)) + "seg.m4s"
		}
		s, r, w := hitFixture(t, path, make([]byte, 4096), mutate)
		allocs := testing.AllocsPerRun(100, func() {
			clear(w.h)
			s.ServeHTTP(w, r)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per hit, want 0", name, allocs)
		}
	}
}
