package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func do(t *testing.T, ts *httptest.Server, method, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return doURL(t, method, ts.URL+path, hdr)
}

func expectStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL, resp.StatusCode, want)
	}
}

func TestMissThenHit(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/v0/seg1.m4s", []byte("segment-bytes"))
	s, ts := newTestEdge(t, o.srv.URL, nil)

	for i, want := range []string{"MISS", "HIT"} {
		resp, body := do(t, ts, "GET", "/v/a1/v0/seg1.m4s", nil)
		expectStatus(t, resp, 200)
		if string(body) != "segment-bytes" {
			t.Fatalf("request %d: body %q", i, body)
		}
		if got := resp.Header.Get("X-Cache"); got != want {
			t.Fatalf("request %d: X-Cache %q, want %q", i, got, want)
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits %d, want 1", n)
	}
	st := s.Stats()
	if st.Hits != 1 || st.Misses != 1 || st.OriginFetches != 1 || st.CachedObjects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConcurrentMissesCoalesce(t *testing.T) {
	const n = 50
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", bytes.Repeat([]byte("x"), 4096))
	s, err := New(Config{
		Origin: o.srv.URL, MemoryBytes: 1 << 20, MaxObjectBytes: 1 << 20,
		OriginTimeout: 10 * time.Second, SegmentMaxAge: time.Hour,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Count requests reaching the edge; the origin answers only once all n
	// are in flight, so they all miss while the first fetch is pending.
	var inflight atomic.Int64
	allIn := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inflight.Add(1) == n {
			close(allIn)
		}
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	o.setHook(func(*http.Request) {
		select {
		case <-allIn:
		case <-time.After(5 * time.Second):
			t.Error("not all requests reached the edge within 5s")
		}
	})

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			resp, err := ts.Client().Get(ts.URL + "/v/a1/seg.m4s")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || len(body) != 4096 {
				errs <- fmt.Errorf("status %d, %d bytes, err %v", resp.StatusCode, len(body), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := o.hits.Load(); got != 1 {
		t.Fatalf("origin hits %d, want exactly 1", got)
	}
	if st := s.Stats(); st.OriginFetches != 1 || st.Hits+st.Misses != n {
		t.Fatalf("stats %+v", st)
	}
}

func TestQueryStringIgnored(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.ts", []byte("ts"))
	s, ts := newTestEdge(t, o.srv.URL, nil)
	do(t, ts, "GET", "/v/a1/seg.ts?token=1", nil)
	resp, _ := do(t, ts, "GET", "/v/a1/seg.ts?token=2&x=y", map[string]string{"Cookie": "a=b"})
	expectStatus(t, resp, 200)
	if resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("X-Cache %q, want HIT", resp.Header.Get("X-Cache"))
	}
	if o.hits.Load() != 1 || s.Stats().CachedObjects != 1 {
		t.Fatalf("origin hits %d, cached %d", o.hits.Load(), s.Stats().CachedObjects)
	}
}

func TestRange(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", []byte("0123456789"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	for _, cache := range []string{"MISS", "HIT"} {
		resp, body := do(t, ts, "GET", "/v/a1/seg.m4s", map[string]string{"Range": "bytes=2-5"})
		expectStatus(t, resp, 206)
		if string(body) != "2345" || resp.Header.Get("Content-Range") != "bytes 2-5/10" {
			t.Fatalf("body %q, Content-Range %q", body, resp.Header.Get("Content-Range"))
		}
		if resp.Header.Get("X-Cache") != cache {
			t.Fatalf("X-Cache %q, want %q", resp.Header.Get("X-Cache"), cache)
		}
	}
	resp, _ := do(t, ts, "GET", "/v/a1/seg.m4s", map[string]string{"Range": "bytes=100-200"})
	expectStatus(t, resp, 416)
}

func TestHead(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/movie.mp4", []byte("moov-and-mdat"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	resp, body := do(t, ts, "HEAD", "/v/a1/movie.mp4", nil)
	expectStatus(t, resp, 200)
	if len(body) != 0 || resp.ContentLength != 13 || resp.Header.Get("ETag") == "" {
		t.Fatalf("body %d bytes, length %d, etag %q", len(body), resp.ContentLength, resp.Header.Get("ETag"))
	}
	if resp.Header.Get("Last-Modified") != originModTime.Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q", resp.Header.Get("Last-Modified"))
	}
}

func TestIfNoneMatch(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", []byte("data"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	resp, _ := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) != 66 {
		t.Fatalf("ETag %q is not the origin's quoted sha256", etag)
	}
	resp, body := do(t, ts, "GET", "/v/a1/seg.m4s", map[string]string{"If-None-Match": etag})
	expectStatus(t, resp, 304)
	if len(body) != 0 {
		t.Fatalf("304 with body %q", body)
	}
}

func TestContentTypeAndCacheControl(t *testing.T) {
	o := newFakeOrigin(t)
	_, ts := newTestEdge(t, o.srv.URL, nil)
	const immutable = "public, max-age=31536000, immutable"
	cases := []struct{ name, ctype, cc string }{
		{"master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=2"},
		{"manifest.mpd", "application/dash+xml", "public, max-age=2"},
		{"init.mp4", "video/mp4", immutable},
		{"seg-1.m4s", "video/iso.segment", immutable},
		{"seg-1.ts", "video/mp2t", immutable},
		{"subs/en.vtt", "text/vtt", immutable},
		{"thumb.JPG", "image/jpeg", immutable},
		{"audio.m4a", "audio/mp4", immutable},
		{"blob.bin", "application/octet-stream", immutable},
	}
	for _, c := range cases {
		o.put("a1/"+c.name, []byte("x"))
		resp, _ := do(t, ts, "GET", "/v/a1/"+c.name, nil)
		expectStatus(t, resp, 200)
		h := resp.Header
		if h.Get("Content-Type") != c.ctype || h.Get("Cache-Control") != c.cc {
			t.Errorf("%s: Content-Type %q Cache-Control %q, want %q %q", c.name, h.Get("Content-Type"), h.Get("Cache-Control"), c.ctype, c.cc)
		}
		if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Content-Range") {
			t.Errorf("%s: CORS headers %v", c.name, h)
		}
	}
}

func TestPreflightAndHealth(t *testing.T) {
	o := newFakeOrigin(t)
	_, ts := newTestEdge(t, o.srv.URL, nil)
	resp, _ := do(t, ts, "OPTIONS", "/v/a1/seg.m4s", map[string]string{
		"Origin": "https://player.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range",
	})
	expectStatus(t, resp, 204)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "range" {
		t.Fatalf("preflight headers %v", resp.Header)
	}
	resp, body := do(t, ts, "GET", "/healthz", nil)
	expectStatus(t, resp, 200)
	if string(body) != "ok" {
		t.Fatalf("healthz body %q", body)
	}
	resp, _ = do(t, ts, "POST", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 405)
	if o.hits.Load() != 0 {
		t.Fatalf("origin hit %d times", o.hits.Load())
	}
}
