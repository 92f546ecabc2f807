package transfer

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// Helpers that start real servers (nginx, sshd, pure-ftpd, versitygw) on
// loopback for the protocol tests. The Makefile's transfer-deps target
// installs them; a missing one fails the test with that hint rather than
// skipping it.

// loopbackOpts returns Options allowing loopback servers (the production
// policy refuses them) and retrying without real sleeps.
func loopbackOpts() Options {
	return Options{
		Policy:  urlpolicy.Policy{AllowPrivate: true, Schemes: []string{"http", "https", "s3", "sftp", "ftp"}},
		Retries: 2,
		Sleep:   noSleep,
	}
}

// needBinary, freePort and startServer are the shared helpers of
// transfertest.
func needBinary(t *testing.T, names ...string) string {
	t.Helper()
	return transfertest.NeedBinary(t, names...)
}

func freePort(t *testing.T) int { t.Helper(); return transfertest.FreePort(t) }

func startServer(t *testing.T, cmd *exec.Cmd, logPath, addr string) {
	t.Helper()
	transfertest.StartServer(t, cmd, logPath, addr)
}

// testPackage is an HLS-like package on disk: segments in two rendition
// directories, their media playlists, a master playlist and a thumbnail.
type testPackage struct {
	dir     string
	media   []string // relative paths
	lists   []string // media playlists
	masters []string // master playlists
}

func (p testPackage) all() []string {
	return append(append(append([]string(nil), p.media...), p.lists...), p.masters...)
}

func makePackage(t *testing.T) testPackage {
	t.Helper()
	p := testPackage{dir: t.TempDir()}
	write := func(rel string, data []byte) {
		full := filepath.Join(p.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var master strings.Builder
	master.WriteString("#EXTM3U\n")
	for _, r := range []string{"360p", "720p"} {
		var list strings.Builder
		list.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n")
		init := r + "/init.mp4"
		write(init, randomBytes(t, 900))
		p.media = append(p.media, init)
		for i := range 4 {
			seg := fmt.Sprintf("%s/seg_%03d.m4s", r, i)
			write(seg, randomBytes(t, 20_000+i*1_111))
			p.media = append(p.media, seg)
			fmt.Fprintf(&list, "#EXTINF:2.0,\n%s\n", filepath.Base(seg))
		}
		list.WriteString("#EXT-X-ENDLIST\n")
		write(r+"/index.m3u8", []byte(list.String()))
		p.lists = append(p.lists, r+"/index.m3u8")
		fmt.Fprintf(&master, "#EXT-X-STREAM-INF:BANDWIDTH=800000\n%s/index.m3u8\n", r)
	}
	write("thumb.jpg", randomBytes(t, 3_000))
	p.media = append(p.media, "thumb.jpg")
	write("master.m3u8", []byte(master.String()))
	p.masters = append(p.masters, "master.m3u8")
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkTree asserts every package file arrived intact under root.
func checkTree(t *testing.T, p testPackage, root string) {
	t.Helper()
	for _, rel := range p.all() {
		want, _ := os.ReadFile(filepath.Join(p.dir, rel))
		got, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s missing on server: %v", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs on server: %d bytes, want %d", rel, len(got), len(want))
		}
	}
}

// checkOrder asserts that in order (file names as the server logged
// their completion) every media file precedes every media playlist, and
// those precede the master playlist.
func checkOrder(t *testing.T, p testPackage, order []string) {
	t.Helper()
	pos := map[string]int{}
	for i, rel := range order {
		pos[rel] = i
	}
	last := func(names []string) int {
		m := -1
		for _, n := range names {
			i, ok := pos[n]
			if !ok {
				t.Fatalf("server log has no upload of %s; logged order: %v", n, order)
			}
			m = max(m, i)
		}
		return m
	}
	first := func(names []string) int {
		m := len(order)
		for _, n := range names {
			m = min(m, pos[n])
		}
		return m
	}
	if last(p.media) > first(p.lists) {
		t.Errorf("a media playlist was stored before all media; order: %v", order)
	}
	if last(p.lists) > first(p.masters) {
		t.Errorf("the master playlist was stored before the media playlists; order: %v", order)
	}
}

// writeBig writes an n-byte random file at path and returns its bytes.
func writeBig(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := randomBytes(t, n)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
