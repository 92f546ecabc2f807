package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsServer serves GET /metrics for roles without an HTTP listener of
// their own (coordinator, agent) and for `vodfleet dev`'s merged view.
type MetricsServer struct {
	// Addr is the bound address; the endpoint is http://Addr/metrics.
	Addr string

	srv *http.Server
}

// ServeMetrics serves g at http://addr/metrics in the background.
func ServeMetrics(addr string, g prometheus.Gatherer, log hclog.Logger) (*MetricsServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	m := &MetricsServer{Addr: l.Addr().String(), srv: srv}
	log.Named("metrics").Info("metrics listening", "url", "http://"+m.Addr+"/metrics")
	return m, nil
}

// Close stops the server.
func (m *MetricsServer) Close() error {
	shutdownHTTP(m.srv, 2*time.Second)
	return nil
}

// withMetrics routes GET /metrics to g and everything else to h: storage
// serves its metrics on its HTTP origin listener.
func withMetrics(h http.Handler, g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.Handle("/", h)
	return mux
}
