package edge

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFiveHundredColdRequestsOneOriginFetch(t *testing.T) {
	const n = 500
	data := make([]byte, 64<<10)
	rand.Read(data)
	var originHits atomic.Int64
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		<-release
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", originModTime, bytes.NewReader(data))
	}))
	defer origin.Close()
	s, ts := newTestEdge(t, origin.URL, nil)
	ts.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = n

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
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, data) {
				errs <- fmt.Errorf("status %d, %d bytes (want %d), err %v", resp.StatusCode, len(body), len(data), err)
			}
		})
	}
	// Hold the origin until every request has joined the one fetch.
	waitFor(t, "all requests to join", func() bool { return s.Stats().CoalescedWaits == n-1 })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := originHits.Load(); got != 1 {
		t.Fatalf("origin fetched %d times, want exactly 1", got)
	}
	st := s.Stats()
	if st.OriginFetches != 1 || st.Misses != n || st.CoalescedWaits != n-1 || st.CachedObjects != 1 {
		t.Fatalf("stats %+v", st)
	}
	if st.BytesSent != uint64(n*len(data)) {
		t.Fatalf("bytes sent %d, want %d", st.BytesSent, n*len(data))
	}
}

func TestMissStreamsBeforeOriginFinishes(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	half := len(data) / 2
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("ETag", `"e"`)
		w.Write(data[:half])
		w.(http.Flusher).Flush()
		<-release
		w.Write(data[half:])
	}))
	defer origin.Close()
	defer close(release) // unblocks the origin if the test fails early
	_, ts := newTestEdge(t, origin.URL, nil)

	// Two players: both must get the first half while the origin blocks.
	bodies := make([]io.ReadCloser, 2)
	for i := range bodies {
		resp, err := ts.Client().Get(ts.URL + "/v/a1/seg.m4s")
		if err != nil {
			t.Fatal(err)
		}
		expectStatus(t, resp, 200)
		if resp.ContentLength != int64(len(data)) || resp.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("length %d, X-Cache %q", resp.ContentLength, resp.Header.Get("X-Cache"))
		}
		bodies[i] = resp.Body
		got := make([]byte, half)
		done := make(chan error, 1)
		go func() { _, err := io.ReadFull(resp.Body, got); done <- err }()
		select {
		case err := <-done:
			if err != nil || !bytes.Equal(got, data[:half]) {
				t.Fatalf("player %d: first half: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("player %d: first half did not arrive while the origin was blocked", i)
		}
	}
	release <- struct{}{} // the origin's handler takes it and finishes
	for i, b := range bodies {
		rest, err := io.ReadAll(b)
		b.Close()
		if err != nil || !bytes.Equal(rest, data[half:]) {
			t.Fatalf("player %d: second half: %d bytes, %v", i, len(rest), err)
		}
	}
}

func TestMixedRequestsShareOneFetch(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	var originHits atomic.Int64
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		<-release
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "", originModTime, bytes.NewReader(data))
	}))
	defer origin.Close()
	s, ts := newTestEdge(t, origin.URL, nil)
	type check struct {
		method string
		hdr    map[string]string
		status int
		body   string
	}
	checks := []check{
		{"GET", nil, 200, string(data)},
		{"HEAD", nil, 200, ""},
		{"GET", map[string]string{"Range": "bytes=10-14"}, 206, "01234"},
		{"GET", map[string]string{"If-None-Match": `"e"`}, 304, ""},
		{"GET", map[string]string{"If-None-Match": `"other"`}, 200, string(data)},
	}
	var wg sync.WaitGroup
	for i := range 5 * len(checks) {
		c := checks[i%len(checks)]
		wg.Go(func() {
			resp, body := do(t, ts, c.method, "/v/a1/seg.m4s", c.hdr)
			if resp.StatusCode != c.status || string(body) != c.body {
				t.Errorf("%s %v: status %d, %d bytes", c.method, c.hdr, resp.StatusCode, len(body))
			}
		})
	}
	waitFor(t, "all requests to join", func() bool { return s.Stats().CoalescedWaits == uint64(5*len(checks)-1) })
	close(release)
	wg.Wait()
	if n := originHits.Load(); n != 1 {
		t.Fatalf("origin hits %d, want 1", n)
	}
}

func TestOriginFailsMidStream(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 64<<10)
	var fail atomic.Bool
	fail.Store(true)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if fail.Load() {
			w.Write(data[:1000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		w.Write(data)
	}))
	defer origin.Close()
	s, ts := newTestEdge(t, origin.URL, nil)
	resp, err := ts.Client().Get(ts.URL + "/v/a1/seg.m4s")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(body) >= len(data) {
		t.Fatalf("truncated fetch looked complete: %d bytes, err %v", len(body), err)
	}
	if s.Stats().CachedObjects != 0 {
		t.Fatal("truncated object was cached")
	}
	fail.Store(false)
	resp2, body := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp2, 200)
	if !bytes.Equal(body, data) || resp2.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("refetch: %d bytes, %s", len(body), resp2.Header.Get("X-Cache"))
	}
}

func TestChunkedOriginWithoutETag(t *testing.T) {
	data := bytes.Repeat([]byte("chunk"), 10000)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(data); i += 4096 {
			w.Write(data[i:min(i+4096, len(data))])
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
	}))
	defer origin.Close()
	_, ts := newTestEdge(t, origin.URL, nil)
	for _, want := range []string{"MISS", "HIT"} {
		resp, body := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
		expectStatus(t, resp, 200)
		if !bytes.Equal(body, data) || resp.Header.Get("X-Cache") != want || len(resp.Header.Get("ETag")) != 66 {
			t.Fatalf("%d bytes, X-Cache %q, ETag %q", len(body), resp.Header.Get("X-Cache"), resp.Header.Get("ETag"))
		}
	}
	// Over MaxObjectBytes mid-body: streamed from the origin instead.
	_, ts = newTestEdge(t, origin.URL, func(c *Config) { c.MaxObjectBytes = 1000 })
	resp, body := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 200)
	if !bytes.Equal(body, data) {
		t.Fatalf("streamed %d bytes", len(body))
	}
}
