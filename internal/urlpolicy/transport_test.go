package urlpolicy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// newSourceServer serves on loopback: "/ok" answers "source", "/to?u=X"
// redirects to X, "/chain/N" redirects N more times before "/ok", and
// "/fixed/N" and "/stream/N" send N bytes with and without a
// Content-Length. hits counts requests that reached it.
func newSourceServer(t *testing.T) (srv *httptest.Server, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "source") })
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/fixed/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		io.WriteString(w, strings.Repeat("x", n))
	})
	mux.HandleFunc("/stream/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		for range n {
			io.WriteString(w, "x")
			w.(http.Flusher).Flush() // chunked: no Content-Length
		}
	})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %s", url, resp.Status)
	}
	return string(b), err
}

func TestTransportRefusesLoopbackAtDial(t *testing.T) {
	srv, hits := newSourceServer(t)
	// The bare transport has no URL check, so the refusal comes from Control.
	c := &http.Client{Transport: Default().Transport()}
	_, err := get(t, c, srv.URL+"/ok")
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("GET loopback with default policy: %v; want ErrForbiddenAddress", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests; want none", hits.Load())
	}
}

func TestHTTPClient(t *testing.T) {
	srv, hits := newSourceServer(t)
	if _, err := get(t, Default().HTTPClient(0), srv.URL+"/ok"); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("default policy: %v; want ErrForbiddenAddress", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests; want none", hits.Load())
	}
	for name, p := range map[string]Policy{
		"AllowPrivate": {AllowPrivate: true},
		"AllowedCIDRs": {AllowedCIDRs: []string{"127.0.0.1/32"}},
	} {
		body, err := get(t, p.HTTPClient(0), srv.URL+"/ok")
		if err != nil || body != "source" {
			t.Fatalf("%s: got %q, %v; want source", name, body, err)
		}
	}
}

func TestHTTPClientChecksRequestURL(t *testing.T) {
	srv, hits := newSourceServer(t)
	url := strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + "/ok"
	if _, err := get(t, Policy{AllowPrivate: true}.HTTPClient(0), url); !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("GET with credentials: %v; want ErrInvalidURL", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests; want none", hits.Load())
	}
}

func TestHTTPClientRedirects(t *testing.T) {
	srv, hits := newSourceServer(t)
	p := Policy{AllowedCIDRs: []string{"127.0.0.1/32"}}
	tests := []struct {
		name, path string
		want       error
		hits       int64
	}{
		{"same host", "/to?u=/ok", nil, 2},
		{"fragment in location", "/to?u=/ok%23t=1", nil, 2},
		{"five redirects", "/chain/4", nil, 6},
		{"six redirects", "/chain/5", ErrTooManyRedirects, 6},
		{"file scheme", "/to?u=file:///etc/passwd", ErrScheme, 1},
		{"gopher scheme", "/to?u=gopher://127.0.0.1:2379/_x", ErrScheme, 1},
		{"metadata", "/to?u=http://169.254.169.254/latest/meta-data/", ErrForbiddenAddress, 1},
		{"loopback outside allowlist", "/to?u=http://127.0.0.2:2379/", ErrForbiddenAddress, 1},
		{"localhost name", "/to?u=http://localhost:2379/", ErrForbiddenAddress, 1},
		{"decimal host", "/to?u=http://2130706433/", ErrInvalidURL, 1},
		{"credentials", "/to?u=http://u:p@example.com/", ErrInvalidURL, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			body, err := get(t, p.HTTPClient(0), srv.URL+tt.path)
			switch {
			case tt.want == nil && (err != nil || body != "source"):
				t.Fatalf("got %q, %v; want source", body, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if hits.Load() != tt.hits {
				t.Fatalf("server saw %d requests; want %d", hits.Load(), tt.hits)
			}
		})
	}
}

func TestLimitResponseOnRealServer(t *testing.T) {
	srv, _ := newSourceServer(t)
	p := Policy{AllowPrivate: true, MaxBytes: 100}
	tests := []struct {
		path      string
		atHeaders bool // refused from Content-Length, before reading
		want      error
	}{
		{"/fixed/100", false, nil},
		{"/fixed/101", true, ErrTooLarge},
		{"/stream/100", false, nil},
		{"/stream/101", false, ErrTooLarge},
		{"/stream/5000", false, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+tt.path, nil)
			resp, err := p.HTTPClient(0).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := p.LimitResponse(resp); tt.atHeaders {
				if !errors.Is(err, tt.want) {
					t.Fatalf("LimitResponse = %v; want %v", err, tt.want)
				}
				return
			} else if err != nil {
				t.Fatalf("LimitResponse = %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("read %d bytes, %v; want %v", len(b), err, tt.want)
			}
			if len(b) != 100 {
				t.Fatalf("read %d bytes; want 100", len(b))
			}
		})
	}
}
