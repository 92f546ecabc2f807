package node

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"

	"github.com/vodfleet/vodfleet/internal/security"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Storage is a running storage node.
type Storage struct {
	// GRPCAddr is the bound gRPC address (uploads, publish).
	GRPCAddr string
	// HTTPAddr is the bound HTTP origin address edges fetch from; it also
	// serves GET /metrics.
	HTTPAddr string
	// Registry holds the storage node's metrics.
	Registry *prometheus.Registry
	// HTTPS is whether the origin serves TLS (with client certificates).
	HTTPS bool

	store  *storage.Store
	grpc   *grpc.Server
	health *health.Server
	http   *http.Server
}

// StartStorage opens the store and serves it on grpcAddr (secured by sec)
// and httpAddr (HTTPS with client certificates when httpTLS is set, see
// security.Security.OriginServerTLS; plaintext otherwise).
func StartStorage(cfg storage.Config, sec *security.Security, grpcAddr, httpAddr string, httpTLS *tls.Config, log hclog.Logger) (*Storage, error) {
	st, err := storage.Open(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := st.RegisterMetrics(reg); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("metrics: %w", err)
	}
	gs := sec.NewServer()
	v1.RegisterStorageServiceServer(gs, storage.NewGRPCServer(st, log))
	hs := addHealthAndReflection(gs)
	glis, err := serveGRPC(grpcAddr, gs, log)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	hsrv, hlis, err := serveHTTP(httpAddr, withMetrics(storage.NewHTTPHandler(st, log), reg), httpTLS, log)
	if err != nil {
		gs.Stop()
		_ = st.Close()
		return nil, err
	}
	n := &Storage{GRPCAddr: glis.Addr().String(), HTTPAddr: hlis.Addr().String(), Registry: reg, HTTPS: httpTLS != nil, store: st, grpc: gs, health: hs, http: hsrv}
	log.Named("storage").Info("storage listening", "grpc", n.GRPCAddr, "grpc_tls", !sec.Insecure(), "http", n.HTTPURL(), "dir", cfg.Dir)
	return n, nil
}

// Close reports NOT_SERVING on the health service, stops serving and
// closes the store.
func (n *Storage) Close() error {
	n.health.Shutdown()
	shutdownHTTP(n.http, 5*time.Second)
	stopGRPC(n.grpc, 5*time.Second)
	return n.store.Close()
}

// HTTPURL is the origin's base URL (https:// when it serves TLS).
func (n *Storage) HTTPURL() string {
	if n.HTTPS {
		return "https://" + n.HTTPAddr
	}
	return "http://" + n.HTTPAddr
}
