package transfer

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pureFTPServer runs pure-ftpd on a loopback port with one virtual user
// (from a puredb file, so no system account is created), chrooted to
// home, passive ports only, and a transfer log in CLF form recording
// each completed upload and download with its byte count.
type pureFTPServer struct {
	addr, home, xferLog string
}

const ftpUser, ftpSecret = "pusher", "right-ftp-secret"

func startPureFTPd(t *testing.T, extra ...string) *pureFTPServer {
	bin := needBinary(t, "pure-ftpd")
	pw := needBinary(t, "pure-pw")
	openssl := needBinary(t, "openssl")
	if os.Geteuid() != 0 {
		t.Fatal("pure-ftpd needs root to switch to its virtual user: run the tests as root (make test does on CI)")
	}
	dir := t.TempDir()
	s := &pureFTPServer{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), home: filepath.Join(dir, "home"), xferLog: filepath.Join(dir, "xfer.log")}
	if err := os.MkdirAll(s.home, 0o755); err != nil {
		t.Fatal(err)
	}
	// The virtual user maps to nobody, which must own its home.
	const nobody = 65534
	if err := os.Chown(s.home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	// pure-pw would hash with argon2, which takes seconds per login on a
	// loaded machine; a SHA-512 crypt hash (also accepted) is instant.
	hash, err := exec.Command(openssl, "passwd", "-6", ftpSecret).Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	passwd := filepath.Join(dir, "pureftpd.passwd")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", ftpUser, strings.TrimSpace(string(hash)), nobody, nobody, s.home)
	if err := os.WriteFile(passwd, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb := filepath.Join(dir, "pureftpd.pdb")
	if out, err := exec.Command(pw, "mkdb", pdb, "-f", passwd).CombinedOutput(); err != nil {
		t.Fatalf("pure-pw mkdb: %v\n%s", err, out)
	}
	lo := 30000 + freePort(t)%20000
	host, port := splitAddr(t, s.addr)
	args := append([]string{
		"-S", host + "," + port,
		"-l", "puredb:" + pdb,
		"-E",      // no anonymous logins
		"-A",      // chroot everyone
		"-H",      // no DNS lookups
		"-u", "1", // virtual users map to uid 65534
		"-p", fmt.Sprintf("%d:%d", lo, lo+40),
		"-O", "clf:" + s.xferLog,
	}, extra...)
	startServer(t, exec.Command(bin, args...), filepath.Join(dir, "pure-ftpd.log"), s.addr)
	return s
}

// logLines returns the transfer log's (method, path, bytes) triples.
func (s *pureFTPServer) logLines(t *testing.T) [][3]string {
	b, err := os.ReadFile(s.xferLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][3]string
	for _, l := range strings.Split(string(b), "\n") {
		// host - user [date] "PUT /path" 200 bytes
		q := strings.Split(l, `"`)
		if len(q) < 3 {
			continue
		}
		req := strings.Fields(q[1])
		tail := strings.Fields(q[2])
		if len(req) == 2 && len(tail) == 2 {
			out = append(out, [3]string{req[0], req[1], tail[1]})
		}
	}
	return out
}

func TestFTPDestinationAndSource(t *testing.T) {
	s := startPureFTPd(t)
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password "+ftpSecret+"\n")
	runScenario(t, protoServer{
		destURL: "ftp://" + ftpUser + "@" + s.addr + "/pkg",
		root:    filepath.Join(s.home, "pkg"),
		opts:    opts,
		uploads: func(t *testing.T) []string {
			var out []string
			for _, f := range s.logLines(t) {
				if f[0] == "PUT" {
					// Uploads go to ".NAME.tmp-vodfleet", renamed at once.
					dir, base := path.Split(strings.TrimPrefix(f[1], s.home+"/pkg/"))
					base = strings.TrimSuffix(strings.TrimPrefix(base, "."), ".tmp-vodfleet")
					out = append(out, dir+base)
				}
			}
			return out
		},
		srcURL: func(rel string) string { return "ftp://" + ftpUser + "@" + s.addr + "/pkg/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			sent := int64(-1)
			for _, f := range s.logLines(t) {
				if f[0] == "GET" && f[1] == s.home+"/pkg/"+rel {
					sent, _ = strconv.ParseInt(f[2], 10, 64)
				}
			}
			return sent, -1 // the log has bytes, not the REST offset
		},
		badOpts: func(t *testing.T) (Options, string) {
			o := loopbackOpts()
			o.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password wrong-ftp-secret\n")
			return o, "wrong-ftp-secret"
		},
	})
}
