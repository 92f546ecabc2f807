package node

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/storage"
)

// Coordinator is a running coordinator.
type Coordinator struct {
	// Addr is the bound gRPC address (clients and agents).
	Addr string
	// C is the coordinator itself.
	C *coordinator.Coordinator
	// Registry holds the coordinator's metrics; serve it with ServeMetrics.
	Registry *prometheus.Registry

	grpc   *grpc.Server
	health *health.Server
	etcd   *clientv3.Client
	pool   *storage.Pool
	cancel context.CancelFunc
	done   chan struct{}
}

// StartCoordinator connects to etcd and the storage nodes, serves the job
// and agent APIs on addr and campaigns for leadership. An empty
// cfg.AdvertiseAddress becomes the bound address. sec secures the listener
// and the connections to storage.
func StartCoordinator(cfg coordinator.Config, sec *security.Security, nodes []storage.Node, etcdEndpoints []string, addr string, log hclog.Logger) (*Coordinator, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcdEndpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	pool, err := storage.NewPool(nodes, sec.DialOptions()...)
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	gs := sec.NewServer()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		err = fmt.Errorf("listen %s: %w", addr, err)
		_ = pool.Close()
		_ = cli.Close()
		return nil, err
	}
	if cfg.AdvertiseAddress == "" {
		cfg.AdvertiseAddress = lis.Addr().String()
	}
	c, err := coordinator.New(cfg, cli, pool, log)
	if err != nil {
		_ = lis.Close()
		_ = pool.Close()
		_ = cli.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := c.RegisterMetrics(reg); err != nil {
		_ = lis.Close()
		_ = pool.Close()
		_ = cli.Close()
		return nil, fmt.Errorf("metrics: %w", err)
	}
	c.Register(gs)
	hs := addHealthAndReflection(gs)
	go func() { _ = gs.Serve(lis) }()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Coordinator{Addr: lis.Addr().String(), C: c, Registry: reg, grpc: gs, health: hs, etcd: cli, pool: pool, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		_ = c.Run(ctx)
	}()
	log.Named("coordinator").Info("coordinator listening", "grpc", n.Addr, "etcd", etcdEndpoints, "tls", !sec.Insecure())
	return n, nil
}

// Close reports NOT_SERVING on the health service, resigns leadership and
// stops serving.
func (n *Coordinator) Close() error {
	n.health.Shutdown()
	n.cancel()
	<-n.done
	stopGRPC(n.grpc, 5*time.Second)
	_ = n.pool.Close()
	return n.etcd.Close()
}
