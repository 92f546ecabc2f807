package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/security"
)

// testTokens is a real token store (hashes, parsed from token file lines)
// admitting one token per role name given.
func testTokens(t *testing.T, roles ...security.Role) (*security.TokenStore, map[security.Role]string) {
	t.Helper()
	toks := map[security.Role]string{}
	var lines []string
	for _, r := range roles {
		tok, err := security.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		toks[r] = tok
		lines = append(lines, security.TokenLine(tok, r, "t-"+string(r)))
	}
	ts, err := security.ParseTokens(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return ts, toks
}

func TestTokenAuthGuardsTheAPI(t *testing.T) {
	ts, toks := testTokens(t, security.AllRoles...)
	h := newTestHandler(t, sampleSource(), Config{Authenticate: TokenAuth(ts)})
	wrong, err := security.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	basic := func(user, pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pw) }
	}
	header := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", v) }
	}
	cases := []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"no credentials", func(*http.Request) {}, 401},
		{"bearer admin", header("Bearer " + toks[security.RoleAdmin]), 200},
		{"bearer scheme in lower case", header("bearer " + toks[security.RoleReadOnly]), 200},
		{"basic submitter, any user", basic("alice", toks[security.RoleSubmitter]), 200},
		{"basic readonly, empty user", basic("", toks[security.RoleReadOnly]), 200},
		{"bearer agent", header("Bearer " + toks[security.RoleAgent]), 403},
		{"basic edge", basic("x", toks[security.RoleEdge]), 403},
		{"bearer coordinator", header("Bearer " + toks[security.RoleCoordinator]), 403},
		{"basic storage", basic("x", toks[security.RoleStorage]), 403},
		{"wrong bearer", header("Bearer " + wrong), 401},
		{"wrong basic password", basic("admin", wrong), 401},
		{"token as basic user name", basic(toks[security.RoleAdmin], ""), 401},
		{"empty bearer", header("Bearer "), 401},
		{"unknown scheme", header("Token " + toks[security.RoleAdmin]), 401},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
		c.set(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, rec.Code, c.want, rec.Body.String())
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		switch {
		case c.want == 401 && challenge != `Basic realm="vodfleet"`:
			t.Errorf("%s: WWW-Authenticate %q, want the Basic challenge", c.name, challenge)
		case c.want != 401 && challenge != "":
			t.Errorf("%s: %d with a challenge %q", c.name, c.want, challenge)
		}
		body := rec.Body.String()
		if c.want == 200 && !strings.Contains(body, "job1") {
			t.Errorf("%s: answer lacks the jobs: %s", c.name, body)
		}
		if c.want != 200 && strings.Contains(body, "job1") {
			t.Errorf("%s: refused answer carries data: %s", c.name, body)
		}
		for _, tok := range toks {
			if strings.Contains(body, tok) {
				t.Errorf("%s: answer echoes a token", c.name)
			}
		}
	}
	// Every endpoint is guarded, not only the jobs list.
	for _, p := range []string{"/api/jobs/job1", "/api/agents", "/api/nothing"} {
		if res, _ := get(t, h, http.MethodGet, p); res.StatusCode != 401 {
			t.Errorf("GET %s without a token: %d, want 401", p, res.StatusCode)
		}
	}
	// The pages stay open so the browser can load them and then sign in.
	if res, _ := get(t, h, http.MethodGet, "/"); res.StatusCode != 200 {
		t.Errorf("GET / without a token: %d", res.StatusCode)
	}
}

func TestTokenAuthWithoutTokenFileRefusesAll(t *testing.T) {
	var none *security.TokenStore // what Security.Tokens is without --token-file
	h := newTestHandler(t, sampleSource(), Config{Authenticate: TokenAuth(none)})
	req := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
	req.SetBasicAuth("admin", "vf_anything")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("no token store: %d, want 401", rec.Code)
	}
}
