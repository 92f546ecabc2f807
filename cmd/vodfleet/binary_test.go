package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// buildBinary compiles vodfleet once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "vodfleet-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vodfleet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a vodfleet process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs the binary with args; the test's cleanup kills it.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- %s log:\n%s", name, p.log.String())
		}
	})
	return p
}

// stop sends SIGTERM and expects a clean exit within the timeout.
func (p *proc) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: signal: %v", p.name, err)
	}
	select {
	case err := <-p.done:
		p.done <- err // for cleanup
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM", p.name, err)
		}
	case <-time.After(timeout):
		t.Errorf("%s did not stop within %s of SIGTERM", p.name, timeout)
	}
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond every 100 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestBinaryDevLogsAddressesAndStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	coord, edgeAddr := freeAddr(t), freeAddr(t)
	p := startProc(t, "dev", "dev", "--data", t.TempDir(), "--agents", "1",
		"--listen", coord, "--http", edgeAddr, "--storage-grpc", freeAddr(t),
		"--storage-http", freeAddr(t), "--etcd-listen", freeAddr(t))
	waitFor(t, "dev cluster ready", func() bool { return strings.Contains(p.log.String(), "dev cluster ready") })
	logs := p.log.String()
	for _, want := range []string{"coordinator=" + coord, "edge=http://" + edgeAddr, "storage_grpc=", "storage_http=http://"} {
		if !strings.Contains(logs, want) {
			t.Errorf("dev log lacks %q:\n%s", want, logs)
		}
	}
	if code, out, stderr := runBin(t, "jobs", "--coordinator", coord); code != 0 || !strings.Contains(out, "JOB") {
		t.Fatalf("jobs against dev: exit %d %s %s", code, out, stderr)
	}
	p.stop(t, 15*time.Second)
	if !strings.Contains(p.log.String(), "stopped") {
		t.Errorf("dev did not log a clean stop:\n%s", p.log.String())
	}
}

func TestBinarySeparateRoleProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process cluster; skipped with -short")
	}
	etcd, err := etcdserver.Start(t.TempDir(), "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	stGRPC, stHTTP, edgeAddr, c1, c2 := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	st := startProc(t, "storage", "storage", "--data", t.TempDir(), "--grpc", stGRPC, "--http", stHTTP)
	ed := startProc(t, "edge", "edge", "--storage", "http://"+stHTTP, "--listen", edgeAddr)
	co1 := startProc(t, "coordinator-1", "coordinator", "--etcd", etcd.Endpoint(), "--listen", c1,
		"--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")
	waitFor(t, "first coordinator to lead", func() bool { return strings.Contains(co1.log.String(), "elected leader") })
	co2 := startProc(t, "coordinator-2", "coordinator", "--etcd", etcd.Endpoint(), "--listen", c2,
		"--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")
	waitFor(t, "second coordinator to listen", func() bool { return strings.Contains(co2.log.String(), "coordinator listening") })
	// The agent tries the follower first and must follow its redirect.
	ag := startProc(t, "agent", "agent", "--coordinator", c2+","+c1, "--id", "roles-agent", "--work-dir", t.TempDir())
	waitFor(t, "agent to reach the leader", func() bool { return strings.Contains(ag.log.String(), "session accepted") })
	if !strings.Contains(ag.log.String(), "following leader") {
		t.Errorf("agent did not follow the follower's redirect:\n%s", ag.log.String())
	}

	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 3})
	// Clients may talk to any coordinator: submit through the follower.
	code, out, stderr := runBin(t, "submit", "--wait", "--json", "--coordinator", c2, "--storage", stGRPC, clip)
	if code != 0 {
		t.Fatalf("submit exit %d: %s %s", code, out, stderr)
	}
	var j jobOut
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != "succeeded" {
		t.Fatalf("job %+v (%v)", j, err)
	}
	resp, err := http.Get(j.HLSURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "#EXTM3U") {
		t.Fatalf("GET %s: %d %q", j.HLSURL, resp.StatusCode, body)
	}
	for _, p := range []*proc{ag, co2, co1, ed, st} {
		p.stop(t, 15*time.Second)
	}
}
