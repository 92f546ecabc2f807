// Package node starts each vodfleet role on its listeners. `vodfleet
// <role>` runs one; `vodfleet dev` and the end-to-end tests run them all
// in one process. Every Start returns a running node with the addresses it
// actually bound (port 0 picks a free one) and a Close that stops it.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
)

// serveGRPC listens on addr and serves s in the background.
func serveGRPC(addr string, s *grpc.Server, log hclog.Logger) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	go func() {
		if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			log.Error("grpc server stopped", "error", err)
		}
	}()
	return lis, nil
}

// serveHTTP listens on addr and serves h in the background, over TLS when
// tlsCfg is set.
func serveHTTP(addr string, h http.Handler, tlsCfg *tls.Config, log hclog.Logger) (*http.Server, net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	var lis net.Listener = bigSendBuffer{l}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, TLSConfig: tlsCfg,
		// TLS handshake failures (no or foreign client certificates) go to
		// the role's log, not the standard logger.
		ErrorLog: log.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})}
	go func() {
		var err error
		if tlsCfg != nil {
			err = srv.ServeTLS(lis, "", "")
		} else {
			err = srv.Serve(lis)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "error", err)
		}
	}()
	return srv, lis, nil
}

// sendBuffer is the socket send buffer asked for on HTTP connections: a
// 1 MB segment then leaves in a few large writes instead of many small
// wake-ups of the writing goroutine.
const sendBuffer = 4 << 20

// bigSendBuffer enlarges the send buffer of accepted TCP connections.
type bigSendBuffer struct{ net.Listener }

func (l bigSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	return c, err
}

// stopGRPC stops s gracefully, forcing it after timeout (open streams).
func stopGRPC(s *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Stop()
	}
}

// shutdownHTTP stops srv, waiting up to timeout for requests in flight.
func shutdownHTTP(srv *http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}
