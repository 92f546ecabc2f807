package edge

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// startFast serves s with its FastServer on a loopback port and returns
// the base URL.
func startFast(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFastServer(s)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Serve(l) }()
	t.Cleanup(func() { _ = f.Shutdown(); <-done })
	return "http://" + l.Addr().String()
}

// doURL sends one request to url and returns the response with its body.
func doURL(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// headerSet lists a response's headers but Date, "Name: value" sorted.
func headerSet(h http.Header) string {
	var out []string
	for k, vs := range h {
		if k == "Date" {
			continue
		}
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestFastServerMatchesNetHTTP: through the fasthttp listener, hits take
// the direct path and everything else the net/http handler, with the same
// statuses, headers and bodies as the net/http server gives.
func TestFastServerMatchesNetHTTP(t *testing.T) {
	o := newFakeOrigin(t)
	seg := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	big := bytes.Repeat([]byte("z"), 3<<20)
	o.put("a1/v1/seg_00001.m4s", seg)
	o.put("a1/master.m3u8", []byte("#EXTM3U\n"))
	o.put("a1/download/big.mp4", big)
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) { c.MaxObjectBytes = 1 << 20 })
	fast := startFast(t, s)

	// Miss (streamed through the adaptor), then a hit on the direct path.
	resp, body := doURL(t, "GET", fast+"/v/a1/v1/seg_00001.m4s", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, seg) || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("miss: %d %d bytes %q", resp.StatusCode, len(body), resp.Header.Get("X-Cache"))
	}
	before := s.Stats().Hits
	resp, body = doURL(t, "GET", fast+"/v/a1/v1/seg_00001.m4s?player=x", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, seg) || resp.Header.Get("X-Cache") != "HIT" || resp.ContentLength != int64(len(seg)) {
		t.Fatalf("hit: %d %d bytes %q len %d", resp.StatusCode, len(body), resp.Header.Get("X-Cache"), resp.ContentLength)
	}
	if s.Stats().Hits != before+1 || s.Stats().OriginFetches != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
	ref, _ := doURL(t, "GET", ts.URL+"/v/a1/v1/seg_00001.m4s", nil)
	if got, want := headerSet(resp.Header), headerSet(ref.Header); got != want {
		t.Fatalf("hit headers differ from net/http:\n%s\n--- net/http:\n%s", got, want)
	}
	head, hb := doURL(t, "HEAD", fast+"/v/a1/v1/seg_00001.m4s", nil)
	if head.StatusCode != 200 || len(hb) != 0 || head.ContentLength != int64(len(seg)) {
		t.Fatalf("HEAD: %d body %d len %d", head.StatusCode, len(hb), head.ContentLength)
	}

	// Range, conditional and error requests behave as on net/http.
	cases := []struct {
		name, method, path string
		hdr                map[string]string
	}{
		{"range", "GET", "/v/a1/v1/seg_00001.m4s", map[string]string{"Range": "bytes=10-19"}},
		{"unsatisfiable range", "GET", "/v/a1/v1/seg_00001.m4s", map[string]string{"Range": "bytes=999999-"}},
		{"if-none-match", "GET", "/v/a1/v1/seg_00001.m4s", map[string]string{"If-None-Match": resp.Header.Get("Etag")}},
		{"missing", "GET", "/v/a1/v1/nope.m4s", nil},
		{"traversal", "GET", "/v/a1/../../etc/passwd", nil},
		{"escaped traversal", "GET", "/v/a1/%2e%2e/%2e%2e/etc/passwd", nil},
		{"method", "POST", "/v/a1/master.m3u8", nil},
		{"preflight", "OPTIONS", "/v/a1/master.m3u8", map[string]string{"Origin": "https://player.example", "Access-Control-Request-Method": "GET"}},
		{"health", "GET", "/healthz", nil},
	}
	for _, c := range cases {
		want, wb := doURL(t, c.method, ts.URL+c.path, c.hdr)
		got, gb := doURL(t, c.method, fast+c.path, c.hdr)
		if got.StatusCode != want.StatusCode || !bytes.Equal(gb, wb) {
			t.Errorf("%s: fast %d (%d bytes), net/http %d (%d bytes)", c.name, got.StatusCode, len(gb), want.StatusCode, len(wb))
		}
		if c.name == "range" && (got.StatusCode != 206 || string(gb) != string(seg[10:20]) || got.Header.Get("Content-Range") != want.Header.Get("Content-Range")) {
			t.Errorf("range: %d %q %q", got.StatusCode, gb, got.Header.Get("Content-Range"))
		}
	}

	// An object too big to cache streams from the origin, whole.
	got, gb := doURL(t, "GET", fast+"/v/a1/download/big.mp4", nil)
	if got.StatusCode != 200 || !bytes.Equal(gb, big) {
		t.Fatalf("big object: %d, %d bytes", got.StatusCode, len(gb))
	}
	got, gb = doURL(t, "GET", fast+"/v/a1/download/big.mp4", map[string]string{"Range": "bytes=100-199"})
	if got.StatusCode != 206 || !bytes.Equal(gb, big[100:200]) || got.Header.Get("Content-Range") != "bytes 100-199/3145728" {
		t.Fatalf("big object range: %d, %d bytes, %q", got.StatusCode, len(gb), got.Header.Get("Content-Range"))
	}
}

// TestFastServerSignedAndDiskHits: with signing on, the direct path still
// refuses unsigned requests (answered 403 by the handler) and serves
// signed hits; with memory off, hits come from the disk tier directly.
func TestFastServerSignedAndDiskHits(t *testing.T) {
	o := newFakeOrigin(t)
	data := bytes.Repeat([]byte("disk!"), 1000)
	o.put("a2/v1/seg_00001.m4s", data)
	key := []byte("0123456789abcdef0123456789abcdef")
	s, _ := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.MemoryBytes = 0
		c.DiskDir = t.TempDir()
		c.DiskBytes = 1 << 20
		c.SigningKey = key
	})
	fast := startFast(t, s)
	if resp, _ := doURL(t, "GET", fast+"/v/a2/v1/seg_00001.m4s", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned: %d, want 403", resp.StatusCode)
	}
	signed := fast + SignedPath(key, "a2", time.Now().Add(time.Hour)) + "v1/seg_00001.m4s"
	if resp, body := doURL(t, "GET", signed, nil); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("signed miss: %d %d bytes", resp.StatusCode, len(body))
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().DiskObjects == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the disk write follows the answer
	}
	resp, body := doURL(t, "GET", signed, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("X-Cache") != "HIT" || resp.ContentLength != int64(len(data)) {
		t.Fatalf("disk hit: %d %d bytes %q", resp.StatusCode, len(body), resp.Header.Get("X-Cache"))
	}
	if st := s.Stats(); st.DiskHits != 1 || st.OriginFetches != 1 {
		t.Fatalf("stats %+v", st)
	}
	if resp, body := doURL(t, "HEAD", signed, nil); resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(data)) {
		t.Fatalf("disk HEAD: %d %d %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}
