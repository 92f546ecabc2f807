package transfertest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// CuttingProxy forwards loopback TCP connections to a server and, once,
// drops a connection after it carried CutAfter bytes from the server to
// the client: a download interrupted midway by the network, which the
// client must resume.
type CuttingProxy struct {
	// Addr is where clients connect instead of the server.
	Addr string
	// cutAfter is the server-to-client byte count that triggers the cut.
	cutAfter int64
	cut      atomic.Bool
}

// StartCuttingProxy forwards to target and cuts the first connection
// that passes cutAfter bytes downstream; it stops at cleanup.
func StartCuttingProxy(t T, target string, cutAfter int64) *CuttingProxy {
	t.Helper()
	p := &CuttingProxy{cutAfter: cutAfter}
	p.Addr = serveRelays(t, target, p.relay)
	return p
}

// Cut reports whether the proxy has cut a connection.
func (p *CuttingProxy) Cut() bool { return p.cut.Load() }

// serveRelays listens on a loopback port and, for every connection,
// dials target and runs relay with both ends, closing them when it
// returns; cleanup closes the listener and waits for the relays to end.
// It returns the address.
func serveRelays(t T, target string, relay func(client, server net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				server, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer server.Close()
				relay(c, server)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// relay copies both ways until either side closes, or until the cut.
func (p *CuttingProxy) relay(client, server net.Conn) {
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if !p.cut.Load() && sent+int64(n) > p.cutAfter {
				keep := p.cutAfter - sent
				if p.cut.CompareAndSwap(false, true) {
					_, _ = client.Write(buf[:keep])
					return // closes both: the client sees a truncated body
				}
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			return
		}
	}
}
