package transfertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HTTP basic-auth login nginx accepts.
const (
	HTTPUser   = "pusher"
	HTTPSecret = "right-http-secret"
)

// Nginx is nginx with its dav module (PUT, MKCOL) and basic auth
// (HTTPUser / HTTPSecret) on a loopback port, serving and storing files
// under WWW. AccessLog records method, path, status, Range header and
// bytes sent per request.
type Nginx struct {
	Addr, WWW, AccessLog, Htpasswd string
	// start runs nginx on the configuration written at start.
	start func() (kill func())
	kill  func()
}

// StartNginx starts nginx on a free loopback port; it stops at cleanup.
func StartNginx(t T) *Nginx {
	t.Helper()
	return StartNginxAt(t, fmt.Sprintf("127.0.0.1:%d", FreePort(t)))
}

// StartNginxAt starts nginx on addr, so a test can point a client at a
// server that is down and start it later; it stops at cleanup.
func StartNginxAt(t T, addr string) *Nginx {
	t.Helper()
	bin := NeedBinary(t, "nginx")
	dir := t.TempDir()
	s := &Nginx{
		Addr:      addr,
		WWW:       filepath.Join(dir, "www"),
		AccessLog: filepath.Join(dir, "access.log"),
		Htpasswd:  filepath.Join(dir, "htpasswd"),
	}
	for _, d := range []string{s.WWW, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.Htpasswd, []byte(HTTPUser+":{PLAIN}"+HTTPSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
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
	log_format xfer '$request_method $uri $status "$http_range" $body_bytes_sent';
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
`, dir, tmp, s.AccessLog, s.Addr, s.WWW, s.Htpasswd)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start = func() func() {
		cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
		return StartServer(t, cmd, filepath.Join(dir, "nginx.out"), s.Addr)
	}
	s.kill = s.start()
	return s
}

// Kill stops nginx with SIGKILL at once: requests in flight are cut and
// new connections refused, as when a server dies.
func (s *Nginx) Kill() { s.kill() }

// Restart starts nginx again on the same address, files and access log
// after Kill.
func (s *Nginx) Restart() { s.kill = s.start() }

// Puts counts the successful PUTs of paths under prefix in the access
// log: how many uploads a push made, to prove a resume sent nothing twice.
func (s *Nginx) Puts(t T, prefix string) int {
	t.Helper()
	n := 0
	for _, c := range s.PutCounts(t, prefix) {
		n += c
	}
	return n
}

// PutCounts returns how many successful PUTs each path under prefix got.
func (s *Nginx) PutCounts(t T, prefix string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(s.AccessLog)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		// METHOD URI STATUS "RANGE" BYTES
		f := strings.Fields(l)
		if len(f) == 5 && f[0] == "PUT" && strings.HasPrefix(f[1], prefix) && strings.HasPrefix(f[2], "2") {
			out[f[1]]++
		}
	}
	return out
}
