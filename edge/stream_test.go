package edge

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/clock"
)

func TestLargeObjectIsStreamedNotCached(t *testing.T) {
	o := newFakeOrigin(t)
	big := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
	o.put("a1/movie.mp4", big)
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) { c.MaxObjectBytes = 100 })

	resp, body := do(t, ts, "GET", "/v/a1/movie.mp4", nil)
	expectStatus(t, resp, 200)
	if !bytes.Equal(body, big) {
		t.Fatalf("got %d bytes, want %d", len(body), len(big))
	}
	h := resp.Header
	if h.Get("Content-Type") != "video/mp4" || h.Get("X-Cache") != "MISS" || h.Get("ETag") == "" ||
		h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("headers %v", h)
	}
	if s.Stats().CachedObjects != 0 {
		t.Fatalf("large object was cached")
	}

	resp, body = do(t, ts, "GET", "/v/a1/movie.mp4", map[string]string{"Range": "bytes=10-19"})
	expectStatus(t, resp, 206)
	if string(body) != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Fatalf("range body %q, Content-Range %q", body, resp.Header.Get("Content-Range"))
	}
	resp, _ = do(t, ts, "GET", "/v/a1/movie.mp4", map[string]string{"Range": "bytes=5000-"})
	expectStatus(t, resp, 416)
	resp, body = do(t, ts, "HEAD", "/v/a1/movie.mp4", nil)
	expectStatus(t, resp, 200)
	if len(body) != 0 || resp.ContentLength != 1000 {
		t.Fatalf("HEAD: %d body bytes, length %d", len(body), resp.ContentLength)
	}
}

func TestPlaylistsExpireSegmentsDoNot(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/index.m3u8", []byte("#EXTM3U v1"))
	o.put("a1/seg.m4s", []byte("seg"))
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	_, ts := newTestEdge(t, o.srv.URL, func(c *Config) { c.Now = clk.Now })

	cacheOf := func(p string) string {
		resp, _ := do(t, ts, "GET", p, nil)
		expectStatus(t, resp, 200)
		return resp.Header.Get("X-Cache")
	}
	for _, p := range []string{"/v/a1/index.m3u8", "/v/a1/seg.m4s"} {
		if got := cacheOf(p); got != "MISS" {
			t.Fatalf("%s first: %s", p, got)
		}
		if got := cacheOf(p); got != "HIT" {
			t.Fatalf("%s second: %s", p, got)
		}
	}
	o.put("a1/index.m3u8", []byte("#EXTM3U v2"))
	clk.Advance(3 * time.Second)
	if got := cacheOf("/v/a1/seg.m4s"); got != "HIT" {
		t.Fatalf("segment after 3s: %s", got)
	}
	resp, body := do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	if resp.Header.Get("X-Cache") != "MISS" || string(body) != "#EXTM3U v2" {
		t.Fatalf("playlist after 3s: %s %q", resp.Header.Get("X-Cache"), body)
	}
	if got := cacheOf("/v/a1/index.m3u8"); got != "HIT" {
		t.Fatalf("refetched playlist not cached: %s", got)
	}
	if n := o.hits.Load(); n != 3 {
		t.Fatalf("origin hits %d, want 3", n)
	}
}

func TestFetcherSentinels(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/slow.m4s", []byte("x"))
	cfg := DefaultConfig()
	cfg.Origin = o.srv.URL + "/" // trailing slash is tolerated
	cfg.OriginTimeout = 50 * time.Millisecond
	f := NewFetcher(cfg, nil, hclog.NewNullLogger())
	defer f.Close()
	ctx := context.Background()

	if _, err := f.Fetch(ctx, "a1/missing.m4s"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrOrigin) {
		t.Fatalf("missing: %v", err)
	}
	o.setHook(func(r *http.Request) { <-r.Context().Done() })
	_, err := f.Fetch(ctx, "a1/slow.m4s")
	if !errors.Is(err, ErrOrigin) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow: %v", err)
	}
	o.setHook(nil)
	obj, err := f.Fetch(ctx, "a1/slow.m4s")
	if err != nil || string(obj.Data()) != "x" || !obj.Fresh(time.Now().Add(time.Hour)) {
		t.Fatalf("fetch: %v %v", obj, err)
	}
	if f.Fetches() != 3 {
		t.Fatalf("fetches %d, want 3", f.Fetches())
	}
}
