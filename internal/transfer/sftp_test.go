package transfer

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
)

// sshdServer runs OpenSSH's sshd on a loopback port with a throwaway
// host key, accepting one throwaway user key for the current user. Its
// sftp-server logs every open, read, close and rename to sftpLog.
type sshdServer struct {
	addr, dir, log, sftpLog string
	hostPub                 ssh.PublicKey
	userKey, knownHosts     string
	user                    string
}

func startSSHD(t *testing.T) *sshdServer {
	d := transfertest.StartSSHD(t)
	return &sshdServer{addr: d.Addr, dir: d.Dir, log: d.Log, sftpLog: d.SFTPLog, hostPub: d.HostPub,
		userKey: d.UserKey, knownHosts: d.KnownHosts, user: d.User}
}

func writeKey(t *testing.T, path string) ssh.PublicKey { return transfertest.WriteKey(t, path) }

func (s *sshdServer) opts() Options {
	o := loopbackOpts()
	o.SSHKeyFile = s.userKey
	o.KnownHostsFile = s.knownHosts
	return o
}

var (
	sftpRename = regexp.MustCompile(`posix-rename old "[^"]*" new "([^"]*)"`)
	sftpRead   = regexp.MustCompile(`read "([^"]*)" \(handle \d+\) off (\d+)`)
	sftpClose  = regexp.MustCompile(`close "([^"]*)" bytes read (\d+) written (\d+)`)
)

func (s *sshdServer) logText(t *testing.T) string {
	b, err := os.ReadFile(s.sftpLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSFTPDestinationAndSource(t *testing.T) {
	s := startSSHD(t)
	root := filepath.Join(s.dir, "remote", "pkg")
	base := "sftp://" + s.user + "@" + s.addr
	runScenario(t, protoServer{
		destURL: base + root,
		root:    root,
		opts:    s.opts(),
		uploads: func(t *testing.T) []string {
			var out []string
			for _, m := range sftpRename.FindAllStringSubmatch(s.logText(t), -1) {
				out = append(out, strings.TrimPrefix(m[1], root+"/"))
			}
			return out
		},
		srcURL: func(rel string) string { return base + root + "/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			// The last read-only open of rel: its first read's offset and
			// the bytes read when it was closed.
			sent, offset := int64(-1), int64(-2)
			first := false
			for _, l := range strings.Split(s.logText(t), "\n") {
				if strings.Contains(l, `open "`+root+"/"+rel+`" flags READ`) {
					first, offset = true, -2
				}
				if m := sftpRead.FindStringSubmatch(l); m != nil && first && m[1] == root+"/"+rel {
					offset, _ = strconv.ParseInt(m[2], 10, 64)
					first = false
				}
				if m := sftpClose.FindStringSubmatch(l); m != nil && m[1] == root+"/"+rel && m[3] == "0" {
					sent, _ = strconv.ParseInt(m[2], 10, 64)
				}
			}
			return sent, offset
		},
		badOpts: func(t *testing.T) (Options, string) {
			o := s.opts()
			o.SSHKeyFile = filepath.Join(t.TempDir(), "other_key")
			writeKey(t, o.SSHKeyFile)
			return o, ""
		},
	})
}

func TestSFTPHostKeyChecked(t *testing.T) {
	s := startSSHD(t)
	dest := "sftp://" + s.user + "@" + s.addr + s.dir + "/remote"

	t.Run("unknown host", func(t *testing.T) {
		o := s.opts()
		o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		other := writeKey(t, filepath.Join(t.TempDir(), "k"))
		line := knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:1")}, other)
		if err := os.WriteFile(o.KnownHostsFile, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ParseDestination(dest, o)
		if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "not in known_hosts") {
			t.Fatalf("unknown host: %v, want ErrHostKey", err)
		}
	})
	t.Run("changed key", func(t *testing.T) {
		o := s.opts()
		o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		other := writeKey(t, filepath.Join(t.TempDir(), "k"))
		line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, other)
		if err := os.WriteFile(o.KnownHostsFile, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ParseDestination(dest, o)
		if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "differs") {
			t.Fatalf("changed key: %v, want ErrHostKey", err)
		}
	})
	t.Run("known_hosts required", func(t *testing.T) {
		o := s.opts()
		o.KnownHostsFile = ""
		if _, err := ParseDestination(dest, o); !errors.Is(err, ErrConfig) {
			t.Fatalf("no known_hosts: %v, want ErrConfig", err)
		}
	})
	t.Run("trusted key connects", func(t *testing.T) {
		d, err := ParseDestination(dest, s.opts())
		if err != nil {
			t.Fatalf("with the right known_hosts: %v", err)
		}
		d.Close()
	})
}
