// Package etcdserver runs a single-member etcd inside the process. It backs
// `vodfleet dev` and the tests, so both use a real etcd, not a fake.
package etcdserver

import (
	"fmt"
	"net/url"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
	log  hclog.Logger
}

// Start runs etcd with its data in dir, serving clients on clientAddr
// (host:port; port 0 picks a free one). It returns once etcd is ready to
// serve or fails after 30 s.
func Start(dir, clientAddr string, log hclog.Logger) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "vodfleet-dev"
	cfg.Dir = dir
	// etcd logs through zap; its shutdown chatter would drown ours, and
	// readiness and failures are reported through our logger below.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	curl, err := url.Parse("http://" + clientAddr)
	if err != nil {
		return nil, fmt.Errorf("etcd client address %q: %w", clientAddr, err)
	}
	// The peer listener is never dialled in a one-member cluster; a unix
	// socket inside the data dir keeps it off the network entirely.
	purl, err := url.Parse("unix://" + dir + "/peer.sock")
	if err != nil {
		return nil, fmt.Errorf("etcd peer address: %w", err)
	}
	cfg.ListenClientUrls = []url.URL{*curl}
	cfg.AdvertiseClientUrls = []url.URL{*curl}
	cfg.ListenPeerUrls = []url.URL{*purl}
	cfg.AdvertisePeerUrls = []url.URL{*purl}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after 30s")
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	s := &Server{etcd: e, log: log}
	log.Info("embedded etcd ready", "client", s.Endpoint(), "data", dir)
	return s, nil
}

// Endpoint returns the client endpoint (http://host:port) actually bound.
func (s *Server) Endpoint() string {
	return "http://" + s.etcd.Clients[0].Addr().String()
}

// Client returns a client of this server (zap logging off, 5 s dial
// timeout); the caller closes it.
func (s *Server) Client() (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}

// Close stops etcd.
func (s *Server) Close() {
	s.etcd.Close()
}
