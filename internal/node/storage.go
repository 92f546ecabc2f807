package node

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Storage is a running storage node.
type Storage struct {
	// GRPCAddr is the bound gRPC address (uploads, publish).
	GRPCAddr string
	// HTTPAddr is the bound HTTP origin address edges fetch from.
	HTTPAddr string

	store *storage.Store
	grpc  *grpc.Server
	http  *http.Server
}

// StartStorage opens the store and serves it on grpcAddr and httpAddr.
func StartStorage(cfg storage.Config, grpcAddr, httpAddr string, log hclog.Logger) (*Storage, error) {
	st, err := storage.Open(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	gs := newGRPCServer()
	v1.RegisterStorageServiceServer(gs, storage.NewGRPCServer(st, log))
	glis, err := serveGRPC(grpcAddr, gs, log)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	hs, hlis, err := serveHTTP(httpAddr, storage.NewHTTPHandler(st, log), log)
	if err != nil {
		gs.Stop()
		_ = st.Close()
		return nil, err
	}
	n := &Storage{GRPCAddr: glis.Addr().String(), HTTPAddr: hlis.Addr().String(), store: st, grpc: gs, http: hs}
	log.Named("storage").Info("storage listening", "grpc", n.GRPCAddr, "http", "http://"+n.HTTPAddr, "dir", cfg.Dir)
	return n, nil
}

// Close stops serving and closes the store.
func (n *Storage) Close() error {
	shutdownHTTP(n.http, 5*time.Second)
	stopGRPC(n.grpc, 5*time.Second)
	return n.store.Close()
}
