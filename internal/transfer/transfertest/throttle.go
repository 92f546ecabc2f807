package transfertest

import (
	"io"
	"net"
	"time"
)

// ThrottleProxy forwards loopback TCP connections to a server, passing
// at most Rate bytes per second per connection from the client to the
// server, so an upload takes long enough for a test to interrupt it
// midway. Replies pass unthrottled.
type ThrottleProxy struct {
	// Addr is where clients connect instead of the server.
	Addr string
	rate int64
}

// StartThrottleProxy forwards to target at rate bytes per second
// upstream; it stops at cleanup.
func StartThrottleProxy(t T, target string, rate int64) *ThrottleProxy {
	t.Helper()
	p := &ThrottleProxy{rate: rate}
	p.Addr = serveRelays(t, target, p.relay)
	return p
}

// relay copies both ways until either side closes; a server that goes
// away closes the client's connection too.
func (p *ThrottleProxy) relay(client, server net.Conn) {
	go func() {
		_, _ = io.Copy(client, server)
		client.Close()
	}()
	// Chunks of a 50th of the rate, each followed by a 20 ms pause.
	chunk := p.rate / 50
	if chunk < 512 {
		chunk = 512
	}
	buf := make([]byte, chunk)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
			time.Sleep(time.Duration(int64(n) * int64(time.Second) / p.rate))
		}
		if err != nil {
			return
		}
	}
}
