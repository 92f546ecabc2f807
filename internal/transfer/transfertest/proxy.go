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
	ln   net.Listener
	// target is the server's address.
	target string
	// cutAfter is the server-to-client byte count that triggers the cut.
	cutAfter int64
	cut      atomic.Bool
	wg       sync.WaitGroup
}

// StartCuttingProxy forwards to target and cuts the first connection
// that passes cutAfter bytes downstream; it stops at cleanup.
func StartCuttingProxy(t T, target string, cutAfter int64) *CuttingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CuttingProxy{Addr: ln.Addr().String(), ln: ln, target: target, cutAfter: cutAfter}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// Cut reports whether the proxy has cut a connection.
func (p *CuttingProxy) Cut() bool { return p.cut.Load() }

func (p *CuttingProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.relay(c)
		}()
	}
}

// relay copies both ways until either side closes, or until the cut.
func (p *CuttingProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
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
