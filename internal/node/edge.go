package node

import (
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vodfleet/vodfleet/edge"
)

// Edge is a running edge node.
type Edge struct {
	// Addr is the bound HTTP address players use; it also serves
	// GET /metrics.
	Addr string

	srv  *edge.Server
	fast *edge.FastServer
	done chan struct{}
}

// StartEdge serves an edge on addr in front of cfg's origins.
func StartEdge(cfg edge.Config, addr string, log hclog.Logger) (*Edge, error) {
	srv, err := edge.New(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	n := &Edge{Addr: l.Addr().String(), srv: srv, fast: edge.NewFastServer(srv), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		if err := n.fast.Serve(bigSendBuffer{l}); err != nil {
			log.Error("edge http server stopped", "error", err)
		}
	}()
	log.Named("edge").Info("edge listening", "http", "http://"+n.Addr)
	return n, nil
}

// edgeShutdownTimeout bounds waiting for requests in flight at Close.
const edgeShutdownTimeout = 5 * time.Second

// Close stops the edge: no new connections, requests in flight get
// edgeShutdownTimeout to finish, then origin fetches are cancelled.
func (n *Edge) Close() error {
	stopped := make(chan struct{})
	go func() { _ = n.fast.Shutdown(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(edgeShutdownTimeout):
	}
	<-n.done
	return n.srv.Close()
}

// Metrics returns the edge's registry (also served at GET /metrics on Addr).
func (n *Edge) Metrics() prometheus.Gatherer { return n.srv.Metrics() }
