package transfertest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// T is the part of testing.TB the helpers use, so tools outside tests
// (the transfer benchmark) can start the same servers.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// NeedBinary returns the path of a server binary (a name on PATH, in
// sbin or the Go bin directory, or an absolute path) or fails the test.
func NeedBinary(t T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if filepath.IsAbs(n) && fileExists(n) {
			return n
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range binDirs() {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p
			}
		}
	}
	t.Fatalf("%s not installed: run `make transfer-deps` (as root) first", names[0])
	return ""
}

// binDirs are where servers may be outside PATH: sbin for the Debian
// packages, the Go bin directory for versitygw.
func binDirs() []string {
	dirs := []string{"/usr/sbin", "/sbin"}
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t T) int {
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
// The returned kill does the same at once (a server that dies midway);
// it waits for the exit and may be called more than once.
func StartServer(t T, cmd *exec.Cmd, logPath, addr string) (kill func()) {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	kill = func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			logf.Close()
		})
	}
	t.Cleanup(kill)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return kill
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
