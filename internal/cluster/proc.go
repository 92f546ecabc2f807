package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildOnce compiles the vodfleet binary once per test process.
var buildOnce = sync.OnceValues(func() (string, error) {
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	dir, err := os.MkdirTemp("", "vodfleet-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vodfleet")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vodfleet")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// Binary returns the path of a freshly built vodfleet binary.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Proc is one vodfleet process of a test. Its log (stdout and stderr)
// accumulates across restarts.
type Proc struct {
	// Name identifies the process in failures.
	Name string

	t    testing.TB
	args []string
	log  *syncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

// StartProc runs the binary with args; test cleanup kills it.
func StartProc(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, t: t, args: args, log: &syncBuffer{}}
	p.start()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- %s log:\n%s", name, p.Log())
		}
	})
	return p
}

func (p *Proc) start() {
	p.t.Helper()
	cmd := exec.Command(Binary(p.t), p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// Log returns everything the process (and its earlier runs) printed.
func (p *Proc) Log() string { return p.log.String() }

// Pid is the current process id.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// signal sends sig to the current process.
func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	_ = cmd.Process.Signal(sig)
}

// wait waits for the current process to exit, up to timeout.
func (p *Proc) wait(timeout time.Duration) (error, bool) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case err := <-done:
		done <- err // later waits see it too
		return err, true
	default:
	}
	select {
	case err := <-done:
		done <- err
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// Kill sends SIGKILL and waits for the exit (also resumes a paused one).
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
}

// Stop sends SIGTERM and expects a clean exit within timeout.
func (p *Proc) Stop(timeout time.Duration) {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	err, ok := p.wait(timeout)
	if !ok {
		p.t.Fatalf("%s did not stop within %s of SIGTERM", p.Name, timeout)
	}
	if err != nil {
		p.t.Errorf("%s exited with %v after SIGTERM", p.Name, err)
	}
}

// Pause stops the process with SIGSTOP; Resume continues it.
func (p *Proc) Pause() { p.signal(syscall.SIGSTOP) }

// Resume sends SIGCONT.
func (p *Proc) Resume() { p.signal(syscall.SIGCONT) }

// Restart starts the process again with the same arguments; the old one
// must have exited.
func (p *Proc) Restart() {
	p.t.Helper()
	if _, ok := p.wait(0); !ok {
		p.t.Fatalf("%s: restart while still running", p.Name)
	}
	fmt.Fprintf(p.log, "\n=== restart ===\n")
	p.start()
}

// WaitLog waits until the log contains s (counting from the whole log).
func (p *Proc) WaitLog(s string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Log(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %q not logged within %s", p.Name, s, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
