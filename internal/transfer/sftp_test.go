package transfer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
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

// writeKey generates an ed25519 key, writes the private half to path in
// OpenSSH format and returns the public half.
func writeKey(t *testing.T, path string) ssh.PublicKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func startSSHD(t *testing.T) *sshdServer {
	bin := needBinary(t, "sshd")
	sftpServer := needBinary(t, "/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &sshdServer{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: dir, log: filepath.Join(dir, "sshd.log"), sftpLog: filepath.Join(dir, "sftp.log"), user: u.Username}
	s.hostPub = writeKey(t, filepath.Join(dir, "host_key"))
	s.userKey = filepath.Join(dir, "user_key")
	userPub := writeKey(t, s.userKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatal(err)
	}
	s.knownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostPub)
	if err := os.WriteFile(s.knownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, s.addr)
	conf := fmt.Sprintf(`Port %s
ListenAddress %s
HostKey %s/host_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
Subsystem sftp %s -e -l DEBUG1 2>>%s
LogLevel INFO
`, port, host, dir, dir, dir, sftpServer, s.sftpLog)
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation
		// directory, which the Debian package creates only at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	startServer(t, exec.Command(bin, "-D", "-e", "-f", confPath), s.log, s.addr)
	return s
}

func splitAddr(t *testing.T, addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	return addr[:i], addr[i+1:]
}

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
