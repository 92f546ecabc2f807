package node

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/edge"
)

// Edge is a running edge node.
type Edge struct {
	// Addr is the bound HTTP address players use.
	Addr string

	srv  *edge.Server
	http *http.Server
}

// StartEdge serves an edge on addr in front of cfg.Origin.
func StartEdge(cfg edge.Config, addr string, log hclog.Logger) (*Edge, error) {
	srv, err := edge.New(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	hs, lis, err := serveHTTP(addr, srv, log)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	n := &Edge{Addr: lis.Addr().String(), srv: srv, http: hs}
	log.Named("edge").Info("edge listening", "http", "http://"+n.Addr, "origin", cfg.Origin)
	return n, nil
}

// Close stops the edge.
func (n *Edge) Close() error {
	shutdownHTTP(n.http, 5*time.Second)
	return n.srv.Close()
}
