package edge

import (
	"net/http"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/clock"
)

// expectStale checks a stale-if-error answer.
func expectStale(t *testing.T, resp *http.Response, body []byte, want string) {
	t.Helper()
	expectStatus(t, resp, 200)
	if string(body) != want || resp.Header.Get("X-Cache") != "STALE" ||
		resp.Header.Get("Warning") != `110 - "Response is Stale"` {
		t.Fatalf("body %q, X-Cache %q, Warning %q", body, resp.Header.Get("X-Cache"), resp.Header.Get("Warning"))
	}
}

func TestStaleIfErrorOriginStopped(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/index.m3u8", []byte("#EXTM3U v1"))
	o.put("a1/seg.m4s", []byte("seg"))
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) { c.Now = clk.Now })
	for _, p := range []string{"/v/a1/index.m3u8", "/v/a1/seg.m4s"} {
		resp, _ := do(t, ts, "GET", p, nil)
		expectStatus(t, resp, 200)
	}
	o.srv.Close()
	clk.Advance(time.Minute) // the playlist is long expired

	resp, body := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 200)
	if string(body) != "seg" || resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("segment: %q %s", body, resp.Header.Get("X-Cache"))
	}
	start := time.Now()
	resp, body = do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	expectStale(t, resp, body, "#EXTM3U v1")
	resp, body = do(t, ts, "GET", "/v/a1/index.m3u8", map[string]string{"Range": "bytes=0-5"})
	expectStatus(t, resp, 206)
	if string(body) != "#EXTM3" || resp.Header.Get("X-Cache") != "STALE" {
		t.Fatalf("stale range: %q %s", body, resp.Header.Get("X-Cache"))
	}
	resp, _ = do(t, ts, "GET", "/v/a1/never-cached.m4s", nil)
	expectStatus(t, resp, 502)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("answers with the origin down took %v", d)
	}
	if st := s.Stats(); st.StaleServed != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStaleIfErrorOn5xxAndTimeout(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/index.m3u8", []byte("#EXTM3U v1"))
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	_, ts := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.Now = clk.Now
		c.OriginTimeout = 200 * time.Millisecond
	})
	do(t, ts, "GET", "/v/a1/index.m3u8", nil)

	clk.Advance(time.Minute)
	o.status.Store(503)
	resp, body := do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	expectStale(t, resp, body, "#EXTM3U v1")
	resp, _ = do(t, ts, "GET", "/v/a1/other.m3u8", nil)
	expectStatus(t, resp, 502)

	o.status.Store(0)
	o.setHook(func(r *http.Request) { <-r.Context().Done() })
	resp, body = do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	expectStale(t, resp, body, "#EXTM3U v1")
	resp, _ = do(t, ts, "GET", "/v/a1/other.m3u8", nil)
	expectStatus(t, resp, 504)

	// Once the origin recovers the playlist is refreshed.
	o.setHook(nil)
	o.put("a1/index.m3u8", []byte("#EXTM3U v2"))
	resp, body = do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	if resp.Header.Get("X-Cache") != "MISS" || string(body) != "#EXTM3U v2" {
		t.Fatalf("after recovery: %s %q", resp.Header.Get("X-Cache"), body)
	}
	// A 404 is an answer, not a failure: the stale copy is dropped.
	clk.Advance(time.Minute)
	o.put("a1/index.m3u8", nil)
	o.mu.Lock()
	delete(o.objects, "a1/index.m3u8")
	o.mu.Unlock()
	resp, _ = do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	expectStatus(t, resp, 404)
}
