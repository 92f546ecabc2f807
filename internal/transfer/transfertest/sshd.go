package transfertest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHD is OpenSSH's sshd on a loopback port with a throwaway host key,
// accepting one throwaway user key (UserKey) for the current user (User).
// Its sftp-server logs every open, read, close and rename to SFTPLog.
// KnownHosts holds the host key for Addr.
type SSHD struct {
	Addr, Dir, Log, SFTPLog string
	HostPub                 ssh.PublicKey
	UserKey, KnownHosts     string
	User                    string
}

// WriteKey generates an ed25519 key, writes the private half to path in
// OpenSSH format and returns the public half.
func WriteKey(t T, path string) ssh.PublicKey {
	t.Helper()
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

// StartSSHD starts sshd; it stops at cleanup.
func StartSSHD(t T) *SSHD {
	t.Helper()
	bin := NeedBinary(t, "sshd")
	sftpServer := NeedBinary(t, "/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &SSHD{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Dir: dir, Log: filepath.Join(dir, "sshd.log"),
		SFTPLog: filepath.Join(dir, "sftp.log"), User: u.Username}
	s.HostPub = WriteKey(t, filepath.Join(dir, "host_key"))
	s.UserKey = filepath.Join(dir, "user_key")
	userPub := WriteKey(t, s.UserKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatal(err)
	}
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostPub)
	if err := os.WriteFile(s.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(s.Addr)
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
MaxStartups 100
MaxSessions 100
Subsystem sftp %s -e -l DEBUG1 2>>%s
LogLevel INFO
`, port, host, dir, dir, dir, sftpServer, s.SFTPLog)
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
	StartServer(t, exec.Command(bin, "-D", "-e", "-f", confPath), s.Log, s.Addr)
	return s
}
