// Package desttest starts real destination servers on loopback for
// tests outside internal/transfer: nginx with its WebDAV module (PUT,
// MKCOL, basic auth) and OpenSSH's sshd with a throwaway host key and user
// key. The Makefile's transfer-deps target installs them; a missing one
// fails the test with that hint rather than skipping it.
package desttest

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
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Nginx is a running nginx WebDAV server.
type Nginx struct {
	// Addr is its host:port; WWW the directory it stores files in.
	Addr, WWW string
	// User and Password are the one login it accepts.
	User, Password string
	// AccessLog records "METHOD URI STATUS BYTES" per request.
	AccessLog string
}

// StartNginx runs nginx on a free loopback port until the test ends.
func StartNginx(t *testing.T) *Nginx {
	t.Helper()
	return StartNginxAt(t, fmt.Sprintf("127.0.0.1:%d", FreePort(t)))
}

// StartNginxAt runs nginx on addr until the test ends.
func StartNginxAt(t *testing.T, addr string) *Nginx {
	t.Helper()
	bin := NeedBinary(t, "nginx")
	dir := t.TempDir()
	s := &Nginx{Addr: addr, WWW: filepath.Join(dir, "www"),
		User: "pusher", Password: "right-http-secret", AccessLog: filepath.Join(dir, "access.log")}
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{s.WWW, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(s.User+":{PLAIN}"+s.Password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	log_format xfer '$request_method $uri $status $body_bytes_sent';
	access_log %[3]s xfer;
	server {
		listen %[4]s;
		root %[5]s;
		location / {
			dav_methods PUT MKCOL;
			dav_access user:rw group:r all:r;
			client_max_body_size 0;
			auth_basic "vodfleet";
			auth_basic_user_file %[6]s;
		}
	}
}
`, dir, tmp, s.AccessLog, s.Addr, s.WWW, htpasswd)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	StartServer(t, exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath), filepath.Join(dir, "nginx.out"), s.Addr)
	return s
}

// Puts counts the successful PUTs of paths under prefix in the access log.
func (s *Nginx) Puts(t *testing.T, prefix string) int {
	t.Helper()
	n := 0
	for _, c := range s.PutCounts(t, prefix) {
		n += c
	}
	return n
}

// PutCounts returns how many successful PUTs each path under prefix got.
func (s *Nginx) PutCounts(t *testing.T, prefix string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(s.AccessLog)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[0] == "PUT" && strings.HasPrefix(f[1], prefix) && strings.HasPrefix(f[2], "2") {
			out[f[1]]++
		}
	}
	return out
}

// SSHD is a running sshd accepting one key for the current user; its
// SFTP server writes straight to the local file system.
type SSHD struct {
	// Addr is its host:port; User the login it accepts.
	Addr, User string
	// UserKey is the private key file it accepts; KnownHosts a
	// known_hosts file with its host key.
	UserKey, KnownHosts string
}

// StartSSHD runs sshd until the test ends.
func StartSSHD(t *testing.T) *SSHD {
	t.Helper()
	bin := NeedBinary(t, "sshd")
	sftpServer := NeedBinary(t, "/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &SSHD{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), User: u.Username,
		UserKey: filepath.Join(dir, "user_key"), KnownHosts: filepath.Join(dir, "known_hosts")}
	hostPub := writeKey(t, filepath.Join(dir, "host_key"))
	userPub := writeKey(t, s.UserKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatal(err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, hostPub)
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
Subsystem sftp %s
LogLevel INFO
`, port, host, dir, dir, dir, sftpServer)
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
	StartServer(t, exec.Command(bin, "-D", "-e", "-f", confPath), filepath.Join(dir, "sshd.log"), s.Addr)
	return s
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

// NeedBinary returns the path of a server binary or fails the test.
func NeedBinary(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if filepath.IsAbs(n) {
			if _, err := os.Stat(n); err == nil {
				return n
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p
			}
		}
	}
	t.Fatalf("%s not installed: run `make transfer-deps` (as root) first", names[0])
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartServer runs cmd in its own process group with output in logPath,
// waits until addr accepts connections, and kills the group at cleanup.
func StartServer(t *testing.T, cmd *exec.Cmd, logPath, addr string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		logf.Close()
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("%s exited early:\n%s", cmd.Path, out)
		case <-time.After(50 * time.Millisecond):
		}
		if i > 400 {
			out, _ := os.ReadFile(logPath)
			t.Fatalf("%s did not listen on %s:\n%s", cmd.Path, addr, out)
		}
	}
}

// Versity is a running versitygw S3 gateway over a POSIX directory: an
// object KEY of bucket Bucket is the file Root/Bucket/KEY.
type Versity struct {
	// Addr is its host:port; Root its directory; Bucket the one bucket.
	Addr, Root, Bucket string
	// Access and Secret are the root credentials it accepts.
	Access, Secret string
}

// StartVersity runs versitygw until the test ends and points the
// standard AWS environment of this process at it (t.Setenv, so the test
// must not be parallel), whatever the machine's own AWS settings are.
func StartVersity(t *testing.T) *Versity {
	t.Helper()
	bin := NeedBinary(t, "versitygw", filepath.Join(os.Getenv("HOME"), "go", "bin", "versitygw"))
	dir := t.TempDir()
	s := &Versity{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), Root: filepath.Join(dir, "root"), Bucket: "bkt",
		Access: "vodfleettest", Secret: "right-s3-secret-key"}
	if err := os.MkdirAll(filepath.Join(s.Root, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", s.Addr, "--access", s.Access, "--secret", s.Secret, "posix", s.Root)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	StartServer(t, cmd, filepath.Join(dir, "versitygw.log"), s.Addr)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           s.Access,
		"AWS_SECRET_ACCESS_KEY":       s.Secret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_ENDPOINT_URL":            "http://" + s.Addr,
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_CA_BUNDLE":               "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return s
}
