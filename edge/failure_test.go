package edge

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawStatus sends target verbatim on the request line over TCP, so neither
// the client nor any URL parsing cleans it, and returns the status code.
func rawStatus(t *testing.T, ts *httptest.Server, target string) int {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestBadPaths(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a/etc/passwd", []byte("nope"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	for _, target := range []string{
		"/v/a/../../etc/passwd",
		"/v/a/%2e%2e/%2e%2e/etc/passwd",
		"/v/a/x/../etc/passwd",
		"/v/a/./etc/passwd",
		"/v/a//etc/passwd",
		"/v/a/etc/passwd/",
		"/v/a/etc%5Cpasswd",
		"/v/a/etc%00passwd",
		"/v/a%21/seg.m4s",
		"/v/" + strings.Repeat("a", 65) + "/seg.m4s",
		"/v/a",
		"/v/",
	} {
		if got := rawStatus(t, ts, target); got != 400 {
			t.Errorf("%s: status %d, want 400", target, got)
		}
	}
	// The same check through net/http with an opaque (uncleaned) URL.
	req, _ := http.NewRequest("GET", ts.URL, nil)
	req.URL.Opaque = "/v/a/../../etc/passwd"
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expectStatus(t, resp, 400)
	if o.hits.Load() != 0 {
		t.Fatalf("origin hit %d times for bad paths", o.hits.Load())
	}
}

func TestOriginNotFound(t *testing.T) {
	o := newFakeOrigin(t)
	s, ts := newTestEdge(t, o.srv.URL, nil)
	resp, _ := do(t, ts, "GET", "/v/a1/missing.m4s", nil)
	expectStatus(t, resp, 404)
	if resp.Header.Get("Cache-Control") != "no-store" || s.Stats().CachedObjects != 0 {
		t.Fatalf("Cache-Control %q, cached %d", resp.Header.Get("Cache-Control"), s.Stats().CachedObjects)
	}
}

func TestOriginDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, ts := newTestEdge(t, url, nil)
	start := time.Now()
	resp, _ := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 502)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("502 took %v", d)
	}
}

func TestOriginTimeout(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", []byte("late"))
	o.setHook(func(r *http.Request) { <-r.Context().Done() })
	_, ts := newTestEdge(t, o.srv.URL, func(c *Config) { c.OriginTimeout = 100 * time.Millisecond })
	start := time.Now()
	resp, _ := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 504)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("504 took %v", d)
	}
}
