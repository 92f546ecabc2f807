package transfer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
)

// nginxServer runs nginx with its dav module (PUT, MKCOL) and basic auth
// on a loopback port, serving and storing files under www. Its access log
// records method, path, status, Range header and bytes sent per request.
type nginxServer struct {
	addr, www, accessLog, htpasswd string
}

func startNginx(t *testing.T) *nginxServer {
	n := transfertest.StartNginx(t)
	return &nginxServer{addr: n.Addr, www: n.WWW, accessLog: n.AccessLog, htpasswd: n.Htpasswd}
}

// logLines returns the access log's lines split into fields:
// method, uri, status, "range", bytes.
func (s *nginxServer) logLines(t *testing.T) [][]string {
	b, err := os.ReadFile(s.accessLog)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) == 5 {
			out = append(out, f)
		}
	}
	return out
}

func writeCredentials(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHTTPDestinationAndSource(t *testing.T) {
	s := startNginx(t)
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login pusher password right-http-secret\n")
	runScenario(t, protoServer{
		destURL: "http://" + s.addr + "/pkg",
		root:    filepath.Join(s.www, "pkg"),
		opts:    opts,
		uploads: func(t *testing.T) []string {
			var out []string
			for _, f := range s.logLines(t) {
				if f[0] == "PUT" && strings.HasPrefix(f[2], "2") {
					out = append(out, strings.TrimPrefix(f[1], "/pkg/"))
				}
			}
			return out
		},
		srcURL: func(rel string) string { return "http://" + s.addr + "/pkg/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			var sent, offset int64 = -1, -1
			for _, f := range s.logLines(t) {
				if f[0] == "GET" && f[1] == "/pkg/"+rel {
					sent, _ = strconv.ParseInt(f[4], 10, 64)
					offset = -2 // a GET without a Range header
					if r := strings.Trim(f[3], `"`); strings.HasPrefix(r, "bytes=") && f[2] == "206" {
						offset, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r, "bytes="), "-"), 10, 64)
					}
				}
			}
			return sent, offset
		},
		badOpts: func(t *testing.T) (Options, string) {
			o := loopbackOpts()
			o.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login pusher password wrong-http-secret\n")
			return o, "wrong-http-secret"
		},
	})
}

// TestFetchRestartsWhenSourceChanged replaces the file on the server
// between an interrupted download and its resumption: the partial bytes
// belong to the old version, so Fetch must start over, never splice.
func TestFetchRestartsWhenSourceChanged(t *testing.T) {
	s := startNginx(t)
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login pusher password right-http-secret\n")
	remote := filepath.Join(s.www, "src", "v.bin")
	const size = 3 << 20
	writeBig(t, remote, size)
	src, err := ParseSource("http://"+s.addr+"/src/v.bin", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	local := filepath.Join(t.TempDir(), "v.bin")
	ctx, stop := context.WithCancel(context.Background())
	_, err = Fetch(ctx, src, local, func(done, _ int64) {
		if done >= 1<<20 {
			stop()
		}
	}, opts)
	stop()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Fetch: %v", err)
	}
	v2 := writeBig(t, remote, size)
	later := time.Now().Add(time.Minute) // nginx's ETag has 1 s resolution
	if err := os.Chtimes(remote, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), src, local, nil, opts); err != nil {
		t.Fatalf("Fetch after the change: %v", err)
	}
	got, _ := os.ReadFile(local)
	if !bytes.Equal(got, v2) {
		t.Fatal("the download spliced the old version's prefix onto the new one")
	}
}
