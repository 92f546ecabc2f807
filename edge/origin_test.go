package edge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// fakeOrigin stands in for storage's HTTP origin and counts requests.
type fakeOrigin struct {
	srv     *httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	objects map[string][]byte
	// hook, if set, runs before every response (to block or delay).
	hook func(r *http.Request)
	// status, if set, is answered instead of the object (to fake a 5xx).
	status atomic.Int32
}

var originModTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func newFakeOrigin(t *testing.T) *fakeOrigin {
	t.Helper()
	o := &fakeOrigin{objects: make(map[string][]byte)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /o/assets/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		hook := o.hook
		data, ok := o.objects[r.PathValue("rest")]
		o.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		if st := int(o.status.Load()); st != 0 {
			http.Error(w, http.StatusText(st), st)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		http.ServeContent(w, r, "", originModTime, bytes.NewReader(data))
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *fakeOrigin) put(key string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[key] = data
}

func (o *fakeOrigin) setHook(h func(r *http.Request)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hook = h
}

// newTestEdge starts an edge Server in front of origin; mutate adjusts the
// config before New.
func newTestEdge(t *testing.T, origin string, mutate func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Origin = origin
	if mutate != nil {
		mutate(&cfg)
	}
	tw := &testWriter{t: t}
	t.Cleanup(tw.stop) // registered first, so it runs after the servers close
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: tw})
	s, err := New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// testWriter routes hclog output to t.Log so it shows only on failure, and
// drops lines logged by goroutines that outlive the test.
type testWriter struct {
	t       *testing.T
	mu      sync.Mutex
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}
