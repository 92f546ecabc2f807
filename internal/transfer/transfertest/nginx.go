package transfertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
}

// StartNginx starts nginx; it stops at cleanup.
func StartNginx(t T) *Nginx {
	t.Helper()
	bin := NeedBinary(t, "nginx")
	dir := t.TempDir()
	s := &Nginx{
		Addr:      fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
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
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	StartServer(t, cmd, filepath.Join(dir, "nginx.out"), s.Addr)
	return s
}
