package edge

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestDashboardProxyIsReadOnly runs the edge's real listener (fasthttp in
// front of the net/http handler) with DashboardURL set to a fake
// coordinator dashboard that records what reaches it.
func TestDashboardProxyIsReadOnly(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	dash := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	}))
	defer dash.Close()
	o := newFakeOrigin(t)
	cfg := DefaultConfig()
	cfg.Origin = o.srv.URL
	cfg.DashboardURL = dash.URL + "/"
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFastServer(s)
	go func() { _ = fs.Serve(l) }()
	defer func() { _ = fs.Shutdown() }()
	base := "http://" + l.Addr().String()

	resp, body := doURL(t, "GET", base+"/dashboard/api/jobs?limit=5", nil)
	if resp.StatusCode != 200 || string(body) != `{"path":"/api/jobs"}` {
		t.Fatalf("GET /dashboard/api/jobs: %d %s", resp.StatusCode, body)
	}
	resp, _ = doURL(t, "HEAD", base+"/dashboard/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("HEAD /dashboard/: %d", resp.StatusCode)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		resp, _ := doURL(t, m, base+"/dashboard/api/jobs", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /dashboard/api/jobs: %d, want 405", m, resp.StatusCode)
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := noFollow.Get(base + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /dashboard: %d to %q, want 301 to /dashboard/", r.StatusCode, r.Header.Get("Location"))
	}

	mu.Lock()
	got := strings.Join(seen, ", ")
	mu.Unlock()
	if got != "GET /api/jobs?limit=5, HEAD /" {
		t.Errorf("dashboard saw %q, want only the GET and the HEAD", got)
	}

	dash.Close()
	if resp, _ := doURL(t, "GET", base+"/dashboard/", nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("dashboard down: %d, want 502", resp.StatusCode)
	}
}

func TestDashboardURLValidated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Origin = "http://127.0.0.1:1"
	for _, bad := range []string{"ftp://x", "http://", "127.0.0.1:7003"} {
		cfg.DashboardURL = bad
		if err := cfg.Validate(); err == nil {
			t.Errorf("dashboard url %q accepted", bad)
		}
	}
}
