package dashboard

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/edge"
	"github.com/vodfleet/vodfleet/internal/security"
)

// TestTokenThroughEdgeProxy puts the real edge listener (fasthttp in front
// of its /dashboard/ reverse proxy) before a token-guarded dashboard: the
// Authorization header must reach the dashboard and the 401 challenge
// must come back to the browser.
func TestTokenThroughEdgeProxy(t *testing.T) {
	ts, toks := testTokens(t, security.RoleReadOnly, security.RoleAgent)
	dash := httptest.NewServer(newTestHandler(t, sampleSource(), Config{Authenticate: TokenAuth(ts)}))
	defer dash.Close()
	origin := httptest.NewServer(http.NotFoundHandler())
	defer origin.Close()

	cfg := edge.DefaultConfig()
	cfg.Origin = origin.URL
	cfg.DashboardURL = dash.URL + "/"
	e, err := edge.New(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := edge.NewFastServer(e)
	go func() { _ = fs.Serve(l) }()
	defer func() { _ = fs.Shutdown() }()
	url := "http://" + l.Addr().String() + "/dashboard/api/jobs"

	call := func(set func(*http.Request)) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		set(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}

	res, body := call(func(*http.Request) {})
	if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "job1") {
		t.Fatalf("through the edge without a token: %d %s, want 401 without data", res.StatusCode, body)
	}
	if got := res.Header.Get("WWW-Authenticate"); got != `Basic realm="vodfleet"` {
		t.Errorf("through the edge: WWW-Authenticate %q, want the Basic challenge", got)
	}
	res, body = call(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+toks[security.RoleReadOnly]) })
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "job1") {
		t.Errorf("through the edge with a bearer token: %d %s", res.StatusCode, body)
	}
	res, body = call(func(r *http.Request) { r.SetBasicAuth("me", toks[security.RoleReadOnly]) })
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "job1") {
		t.Errorf("through the edge with Basic auth: %d %s", res.StatusCode, body)
	}
	res, _ = call(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+toks[security.RoleAgent]) })
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("through the edge with an agent token: %d, want 403", res.StatusCode)
	}
}
