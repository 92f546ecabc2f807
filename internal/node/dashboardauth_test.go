package node

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator/dashboard"
	"github.com/vodfleet/vodfleet/internal/security"
)

// TestDashboardAuthFollowsTheCoordinatorSecurity: open with a warning only
// when insecure without a token file; otherwise the token file's tokens,
// and never the token in the log.
func TestDashboardAuthFollowsTheCoordinatorSecurity(t *testing.T) {
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	build := func(cfg security.Config) *security.Security {
		t.Helper()
		s, err := security.New(cfg, true, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	request := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
		if tok != "" {
			r.SetBasicAuth("u", tok)
		}
		return r
	}

	open := security.DefaultConfig()
	open.Insecure = true
	if auth := DashboardAuth(build(open), log); auth != nil {
		t.Error("insecure without a token file: the dashboard is not open")
	}
	if !strings.Contains(logs.String(), "[WARN]  dashboard: web dashboard without authentication") {
		t.Errorf("no warning for the open dashboard:\n%s", logs.String())
	}

	pki, err := security.EnsureDevPKI(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := pki.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]security.Config{
		"tls":                        pki.Config(security.RoleCoordinator),
		"insecure with a token file": func() security.Config { c := open; c.TokenFile = pki.TokenFile; return c }(),
	} {
		logs.Reset()
		auth := DashboardAuth(build(cfg), log)
		if auth == nil {
			t.Fatalf("%s: dashboard open", name)
		}
		if err := auth(request(tok)); err != nil {
			t.Errorf("%s: admin token refused: %v", name, err)
		}
		if err := auth(request("")); !errors.Is(err, dashboard.ErrNoToken) {
			t.Errorf("%s: no token: %v, want ErrNoToken", name, err)
		}
		if strings.Contains(logs.String(), "WARN") {
			t.Errorf("%s: warning with a token file:\n%s", name, logs.String())
		}
	}

	// TLS without a token file: nothing to accept, said at start.
	noTokens := pki.Config(security.RoleCoordinator)
	noTokens.TokenFile = ""
	logs.Reset()
	auth := DashboardAuth(build(noTokens), log)
	if auth == nil || auth(request(tok)) == nil {
		t.Error("TLS without a token file: the dashboard accepts a token")
	}
	if !strings.Contains(logs.String(), "no API tokens to accept") {
		t.Errorf("no warning for a dashboard without tokens:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), tok) {
		t.Error("the token shows in the log")
	}
}
