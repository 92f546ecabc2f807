package edge

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/clock"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestSignedPathFormat(t *testing.T) {
	exp := time.Unix(1_700_000_000, 0)
	p := SignedPath(testKey, "a1", exp)
	tok := Sign(testKey, "/v/a1/", exp)
	if p != "/t/"+tok+"/v/a1/" {
		t.Fatalf("SignedPath %q, token %q", p, tok)
	}
	if strings.ContainsAny(tok, "/+=") || Sign(testKey, "/v/a1/", exp) != tok {
		t.Fatalf("token %q is not stable unpadded base64url", tok)
	}
	now := exp.Add(-time.Hour)
	cases := []struct {
		name  string
		token string
		path  string
		now   time.Time
		want  error
	}{
		{"ok", tok, "/v/a1/v0/seg.m4s", now, nil},
		{"expired", tok, "/v/a1/x", exp, ErrTokenExpired},
		{"other asset", tok, "/v/a2/x", now, ErrTokenScope},
		{"asset prefix", Sign(testKey, "/v/a", exp), "/v/ab/x", now, ErrTokenScope},
		{"exact file", Sign(testKey, "/v/a1/master.m3u8", exp), "/v/a1/master.m3u8", now, nil},
		{"exact file other", Sign(testKey, "/v/a1/master.m3u8", exp), "/v/a1/master.m3u8x", now, ErrTokenScope},
		{"not /v/", Sign(testKey, "/x/", exp), "/x/a", now, ErrTokenScope},
		{"other key", Sign([]byte("another key, 16+ bytes"), "/v/a1/", exp), "/v/a1/x", now, ErrTokenInvalid},
		{"garbled", tok[:10] + "!" + tok[11:], "/v/a1/x", now, ErrTokenInvalid},
		{"truncated", tok[:20], "/v/a1/x", now, ErrTokenInvalid},
		{"empty", "", "/v/a1/x", now, ErrTokenInvalid},
		{"huge", strings.Repeat("A", maxTokenLen+1), "/v/a1/x", now, ErrTokenInvalid},
	}
	for _, c := range cases {
		if err := VerifyToken(testKey, c.token, c.path, c.now); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Changing any byte of the signed content breaks the MAC.
	flipped := []byte(tok)
	flipped[3] ^= 1
	if err := VerifyToken(testKey, string(flipped), "/v/a1/x", now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("flipped: %v", err)
	}
}

func TestSignedURLs(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/master.m3u8", []byte("#EXTM3U\nv0/index.m3u8\n"))
	o.put("a1/v0/seg.m4s", []byte("seg"))
	o.put("a2/v0/seg.m4s", []byte("other"))
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.Now = clk.Now
		c.SigningKey = testKey
	})
	base := SignedPath(testKey, "a1", clk.Now().Add(time.Hour))

	resp, _ := do(t, ts, "GET", base+"master.m3u8", nil)
	expectStatus(t, resp, 200)
	// A relative URI in the playlist resolves under the same token.
	ref, _ := url.Parse(ts.URL + base + "master.m3u8")
	seg := ref.ResolveReference(&url.URL{Path: "v0/seg.m4s"}).Path
	resp, body := do(t, ts, "GET", seg, nil)
	expectStatus(t, resp, 200)
	if string(body) != "seg" {
		t.Fatalf("segment body %q", body)
	}
	// Another viewer's token shares the cache entry: the key has no token.
	other := SignedPath(testKey, "a1", clk.Now().Add(2*time.Hour))
	resp, _ = do(t, ts, "GET", other+"v0/seg.m4s", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("second token: %d %s", resp.StatusCode, resp.Header.Get("X-Cache"))
	}

	forbidden := []string{
		"/v/a1/v0/seg.m4s", // unsigned while signing is on
		strings.Replace(base, "/v/a1/", "/v/a2/", 1) + "v0/seg.m4s", // token for a1 used for a2
		"/t/" + strings.Repeat("A", 60) + "/v/a1/v0/seg.m4s",        // forged
		"/t/not%20base64/v/a1/v0/seg.m4s",                           // garbled
		SignedPath([]byte("a different key, long enough"), "a1", clk.Now().Add(time.Hour)) + "v0/seg.m4s",
	}
	for _, p := range forbidden {
		resp, _ := do(t, ts, "GET", p, nil)
		expectStatus(t, resp, 403)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: Cache-Control %q", p, resp.Header.Get("Cache-Control"))
		}
	}
	// Traversal is still a bad request, checked before the token.
	for _, target := range []string{base + "../../a2/v0/seg.m4s", base + "v0/./seg.m4s", "/t//v/a1/x", "/t/tok"} {
		if got := rawStatus(t, ts, target); got != 400 {
			t.Errorf("%s: status %d, want 400", target, got)
		}
	}
	clk.Advance(61 * time.Minute)
	resp, _ = do(t, ts, "GET", base+"v0/seg.m4s", nil)
	expectStatus(t, resp, 403)
	// Preflight needs no token.
	resp, _ = do(t, ts, "OPTIONS", "/v/a1/v0/seg.m4s", nil)
	expectStatus(t, resp, 204)
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits %d, want 2", n)
	}
	if st := s.Stats(); st.Hits != 1 || st.Misses != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTokenIgnoredWhenSigningOff(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", []byte("seg"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	resp, body := do(t, ts, "GET", "/t/anything/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 200)
	if string(body) != "seg" {
		t.Fatalf("body %q", body)
	}
}

func TestSigningKeyValidate(t *testing.T) {
	c := DefaultConfig()
	c.Origin = "http://127.0.0.1:1"
	c.SigningKey = []byte("short")
	if c.Validate() == nil {
		t.Fatal("short signing key accepted")
	}
	c.SigningKey = []byte{}
	if err := c.Validate(); err != nil {
		t.Fatalf("empty key (signing off): %v", err)
	}
}
