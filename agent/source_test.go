package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/transfer"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// testCache returns a source cache in a temp dir; loopback test servers
// need allowLoopback.
func testCache(t *testing.T, cfg Config) *sourceCache {
	t.Helper()
	cfg.WorkDir = t.TempDir()
	c := newSourceCache(cfg, hclog.NewNullLogger())
	c.idle = 300 * time.Millisecond
	c.topts.Sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

func urlSource(u string) *v1.Source { return &v1.Source{Location: &v1.Source_Url{Url: u}} }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// interrupting serves data with Range support, but cuts the first
// response off (abruptly, or by stalling when stall is set) after half
// the body. It records the Range headers it saw.
type interrupting struct {
	data   []byte
	stall  bool
	mu     sync.Mutex
	ranges []string
}

func (s *interrupting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	modified := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if r.Method == http.MethodHead {
		http.ServeContent(w, r, "source.mp4", modified, bytes.NewReader(s.data))
		return
	}
	s.mu.Lock()
	first := len(s.ranges) == 0
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	if !first {
		http.ServeContent(w, r, "source.mp4", modified, bytes.NewReader(s.data))
		return
	}
	w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
	w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.data[:len(s.data)/2])
	w.(http.Flusher).Flush()
	if s.stall {
		<-r.Context().Done()
		return
	}
	panic(http.ErrAbortHandler) // drop the connection mid-body
}

func TestDownloadResumesWithRange(t *testing.T) {
	for _, stall := range []bool{false, true} {
		name := "dropped"
		if stall {
			name = "stalled"
		}
		t.Run(name, func(t *testing.T) {
			srv := &interrupting{data: randomBytes(t, 1<<20), stall: stall}
			web := httptest.NewServer(srv)
			defer web.Close()
			c := testCache(t, Config{AllowPrivateSources: true})
			local, wl, err := c.input(context.Background(), nil, urlSource(web.URL+"/a.mp4?sig=secret"))
			if err != nil {
				t.Fatal(err)
			}
			if wl != "file" {
				t.Errorf("whitelist %q, want file", wl)
			}
			got, err := os.ReadFile(local)
			if err != nil || !bytes.Equal(got, srv.data) {
				t.Fatalf("downloaded %d bytes (%v), want the %d source bytes", len(got), err, len(srv.data))
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.ranges) != 2 || srv.ranges[0] != "" || srv.ranges[1] != "bytes="+strconv.Itoa(len(srv.data)/2)+"-" {
				t.Errorf("range requests %q, want a resume from the half", srv.ranges)
			}
			// Cached: a second input does not download again.
			if _, _, err := c.input(context.Background(), nil, urlSource(web.URL+"/a.mp4?sig=secret")); err != nil || len(srv.ranges) != 2 {
				t.Errorf("second input: %v after %d requests", err, len(srv.ranges))
			}
		})
	}
}

// TestDownloadResumeChangedSource: a partial download whose source changed
// meanwhile (If-Range mismatch) starts over instead of splicing.
func TestDownloadResumeChangedSource(t *testing.T) {
	data := randomBytes(t, 64<<10)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.mp4", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(data))
	}))
	defer web.Close()
	c := testCache(t, Config{AllowPrivateSources: true})
	u := web.URL + "/a.mp4"
	part := c.dir + "/" + cacheKey("url:"+u) + "/source" + transfer.PartSuffix
	if err := os.MkdirAll(c.dir+"/"+cacheKey("url:"+u), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(part, []byte("stale bytes of an older version"), 0o644)
	_ = os.WriteFile(part+".version", []byte(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)), 0o644)
	local, _, err := c.input(context.Background(), nil, urlSource(u))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(local); !bytes.Equal(got, data) {
		t.Fatalf("spliced or wrong download: %d bytes", len(got))
	}
}

func TestDownloadErrors(t *testing.T) {
	big := randomBytes(t, 200<<10)
	var hits sync.Map
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		switch r.URL.Path {
		case "/big.mp4":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write(big)
		case "/chunked.mp4":
			for i := 0; i < len(big); i += 10 << 10 {
				_, _ = w.Write(big[i : i+10<<10])
				w.(http.Flusher).Flush() // no Content-Length
			}
		case "/private.mp4":
			if u, p, ok := r.BasicAuth(); !ok || u != "agent" || p != "s3cret" {
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(big)/4))
			_, _ = w.Write(big[:len(big)/4])
		case "/busy.mp4":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/redirect.mp4":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer web.Close()
	closed := closedPort(t)

	limited := Config{AllowPrivateSources: true, MaxSourceBytes: 100 << 10}
	strict := Config{}
	tests := []struct {
		name      string
		cfg       Config
		url       string
		text      string
		permanent bool
		sentinel  error
	}{
		{"declared too large", limited, web.URL + "/big.mp4", "source too large: 204800 bytes, limit 102400", true, urlpolicy.ErrTooLarge},
		{"size unknown", limited, web.URL + "/chunked.mp4", "server did not announce a size", false, errSourceUnreachable},
		{"loopback refused", strict, web.URL + "/big.mp4", "source url refused", true, urlpolicy.ErrForbiddenAddress},
		{"redirect to metadata", Config{AllowedSourceCIDRs: []string{"127.0.0.0/8"}}, web.URL + "/redirect.mp4", "source url refused", true, urlpolicy.ErrForbiddenAddress},
		{"not found", limited, web.URL + "/gone.mp4", "source unavailable: not found: /gone.mp4 on 127.0.0.1", true, errSourceUnavailable},
		{"busy", limited, web.URL + "/busy.mp4", "unexpected status 503 Service Unavailable", false, errSourceUnreachable},
		{"no credentials", limited, web.URL + "/private.mp4", "source login failed: authentication failed: 127.0.0.1", false, errSourceAuth},
		{"wrong credentials", withCreds(t, limited, "agent", "wrong"), web.URL + "/private.mp4", "refused the credentials (401 Unauthorized)", false, errSourceAuth},
		{"connection refused", limited, "http://" + closed + "/a.mp4", "source unreachable: HEAD " + closed + ": dial tcp " + closed, false, errSourceUnreachable},
		{"scheme", limited, "gopher://example.com/a.mp4", "source url refused", true, urlpolicy.ErrScheme},
		{"query on sftp", limited, "sftp://u@example.com/a.mp4?x=1", "source url refused", true, transfer.ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCache(t, tt.cfg)
			_, _, err := c.input(context.Background(), nil, urlSource(tt.url+"?sig=secret"))
			if err == nil || !strings.Contains(err.Error(), tt.text) || !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %q", err, tt.text)
			}
			if errors.Is(err, errPermanent) != tt.permanent {
				t.Errorf("permanent = %v, want %v", errors.Is(err, errPermanent), tt.permanent)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the query: %v", err)
			}
		})
	}
	if _, hit := hits.Load("/big.mp4"); !hit {
		t.Error("no test reached the server")
	}
	// The right credentials, from the agent's own file, download it.
	c := testCache(t, withCreds(t, limited, "agent", "s3cret"))
	local, _, err := c.input(context.Background(), nil, urlSource(web.URL+"/private.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(local); !bytes.Equal(got, big[:len(big)/4]) {
		t.Errorf("downloaded %d bytes, want %d", len(got), len(big)/4)
	}
}

// withCreds returns cfg with an HTTP credentials file for 127.0.0.1.
func withCreds(t *testing.T, cfg Config, login, password string) Config {
	t.Helper()
	f := t.TempDir() + "/netrc"
	if err := os.WriteFile(f, []byte("machine 127.0.0.1 login "+login+" password "+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.HTTPCredentialsFile = f
	return cfg
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTaskTimeout(t *testing.T) {
	a := &Agent{cfg: Config{}}
	if d := a.taskTimeout(&v1.TaskSpec{}); d != 10*time.Minute {
		t.Errorf("probe timeout %s, want 10m", d)
	}
	if d := a.taskTimeout(&v1.TaskSpec{SourceDurationSeconds: 3600}); d != 20*time.Hour {
		t.Errorf("1 h source: timeout %s, want 20h", d)
	}
	a.cfg.TaskTimeout = 200 * time.Millisecond
	ctx, cancel := a.taskContext(context.Background(), &v1.TaskSpec{SourceDurationSeconds: 3600})
	defer cancel()
	start := time.Now()
	err := ffmpeg.Run(ctx, hclog.NewNullLogger(), "sleep", []string{"30"}, nil)
	if err == nil || !strings.Contains(err.Error(), "task timed out after 200ms") || !errors.Is(err, errPermanent) {
		t.Fatalf("err = %v, want a permanent timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("process killed after %s", took)
	}
}

func TestConfigValidatesSourcePolicy(t *testing.T) {
	base := Config{Coordinators: []string{"x:1"}, WorkDir: "/tmp/x",
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}
	if err := (base.WithDefaults()).Validate(); err != nil {
		t.Fatal(err)
	}
	noDial := base
	noDial.DialOptions = nil
	if err := noDial.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "dial options are required") {
		t.Errorf("config without dial options: %v", err)
	}
	for _, c := range []Config{
		{AllowedSourceCIDRs: []string{"not-a-cidr"}},
		{MaxSourceBytes: -1},
		{TaskTimeout: -time.Second},
		{StallTimeout: -time.Second},
	} {
		c.Coordinators, c.WorkDir, c.DialOptions = base.Coordinators, base.WorkDir, base.DialOptions
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
