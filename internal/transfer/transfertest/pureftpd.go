package transfertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FTP login pure-ftpd accepts.
const (
	FTPUser   = "pusher"
	FTPSecret = "right-ftp-secret"
)

// ftpNobody is the uid and gid the virtual FTP user maps to; it must own
// the user's home.
const ftpNobody = 65534

// PureFTPd is pure-ftpd on a loopback port with one virtual user
// (FTPUser / FTPSecret, from a puredb file, so no system account is
// created) chrooted to Home, passive mode only, and XferLog, a transfer
// log in CLF form recording each completed upload and download with its
// byte count.
type PureFTPd struct {
	Addr, Home, XferLog string
}

// FTPTransfer is one line of the transfer log: Method is PUT for an
// upload or GET for a download, Path the file's path on disk, Bytes the
// bytes moved.
type FTPTransfer struct {
	Method, Path string
	Bytes        int64
}

// StartPureFTPd starts pure-ftpd with extra command-line options (TLS,
// for one); it stops at cleanup. pure-ftpd switches to its virtual user's
// uid, so the test must run as root.
func StartPureFTPd(t T, extra ...string) *PureFTPd {
	t.Helper()
	bin := NeedBinary(t, "pure-ftpd")
	pw := NeedBinary(t, "pure-pw")
	openssl := NeedBinary(t, "openssl")
	if os.Geteuid() != 0 {
		t.Fatal("pure-ftpd needs root to switch to its virtual user: run the tests as root (make test does on CI)")
	}
	dir := t.TempDir()
	s := &PureFTPd{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Home: filepath.Join(dir, "home"), XferLog: filepath.Join(dir, "xfer.log")}
	if err := os.MkdirAll(s.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(s.Home, ftpNobody, ftpNobody); err != nil {
		t.Fatal(err)
	}
	// pure-pw would hash with argon2, which takes seconds per login on a
	// loaded machine; a SHA-512 crypt hash (also accepted) is instant.
	hash, err := exec.Command(openssl, "passwd", "-6", FTPSecret).Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	passwd := filepath.Join(dir, "pureftpd.passwd")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", FTPUser, strings.TrimSpace(string(hash)), ftpNobody, ftpNobody, s.Home)
	if err := os.WriteFile(passwd, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb := filepath.Join(dir, "pureftpd.pdb")
	if out, err := exec.Command(pw, "mkdb", pdb, "-f", passwd).CombinedOutput(); err != nil {
		t.Fatalf("pure-pw mkdb: %v\n%s", err, out)
	}
	lo := 30000 + FreePort(t)%20000
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"-S", host + "," + port,
		"-l", "puredb:" + pdb,
		"-E",      // no anonymous logins
		"-A",      // chroot everyone
		"-H",      // no DNS lookups
		"-u", "1", // virtual users map to uid 65534
		"-p", fmt.Sprintf("%d:%d", lo, lo+40),
		"-O", "clf:" + s.XferLog,
	}, extra...)
	StartServer(t, exec.Command(bin, args...), filepath.Join(dir, "pure-ftpd.log"), s.Addr)
	return s
}

// Put places a file in the server's tree at rel (under Home), readable
// by the virtual user: a source for download tests.
func (s *PureFTPd) Put(t T, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(s.Home, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, ftpNobody, ftpNobody); err != nil {
		t.Fatal(err)
	}
}

// Transfers returns the transfer log's entries in the order the server
// completed them.
func (s *PureFTPd) Transfers(t T) []FTPTransfer {
	t.Helper()
	b, err := os.ReadFile(s.XferLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []FTPTransfer
	for _, l := range strings.Split(string(b), "\n") {
		// host - user [date] "PUT /path" 200 bytes
		q := strings.Split(l, `"`)
		if len(q) < 3 {
			continue
		}
		req := strings.Fields(q[1])
		tail := strings.Fields(q[2])
		if len(req) != 2 || len(tail) != 2 {
			continue
		}
		var n int64
		if _, err := fmt.Sscan(tail[1], &n); err != nil {
			continue
		}
		out = append(out, FTPTransfer{Method: req[0], Path: req[1], Bytes: n})
	}
	return out
}
