//go:build linux

package edge

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// unresponsiveOrigin returns the URL of a listener whose accept queue is
// full, so the kernel drops further SYNs and a dial hangs until its
// timeout: a dead host, without depending on the network.
func unresponsiveOrigin(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue; nothing ever accepts.
	for range 3 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
		c.Close()
		t.Skip("kernel accepted beyond the backlog; cannot fake an unresponsive host")
	}
	return "http://" + addr
}

func TestConnectTimeoutAnswersQuickly(t *testing.T) {
	_, ts := newTestEdge(t, unresponsiveOrigin(t), func(c *Config) {
		c.OriginConnectTimeout = 300 * time.Millisecond // OriginTimeout stays 10s
	})
	start := time.Now()
	resp, _ := do(t, ts, "GET", "/v/a1/seg.m4s", nil)
	expectStatus(t, resp, 504)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("answer took %v", d)
	}
}
