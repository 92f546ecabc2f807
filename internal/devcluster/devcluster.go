// Package devcluster runs a whole vodfleet in one process: an embedded
// etcd, a coordinator, a storage node, an edge and N agents. It is what
// `vodfleet dev` starts and what the end-to-end tests drive.
package devcluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/vodfleet/vodfleet/agent"
	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/coordinator/dashboard"
	"github.com/vodfleet/vodfleet/edge"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/node"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/storage"
)

// Config sets where the dev cluster keeps data and listens. Addresses with
// port 0 pick free ports (the tests do that).
type Config struct {
	// DataDir holds etcd data, the storage node and agent work dirs.
	DataDir string
	// Agents is how many agents to run.
	Agents int
	// AgentSlots is each agent's task slots.
	AgentSlots int
	// EtcdAddr, CoordinatorAddr, StorageGRPCAddr, StorageHTTPAddr and
	// EdgeAddr are the listen addresses.
	EtcdAddr, CoordinatorAddr, StorageGRPCAddr, StorageHTTPAddr, EdgeAddr string
	// MetricsAddr serves GET /metrics with every role's metrics merged
	// (agents labelled agent=<id>); empty disables it. Storage and the edge
	// also serve their own on their HTTP addresses.
	MetricsAddr string
	// DashboardAddr is the coordinator's web dashboard listener; empty
	// turns the dashboard off. Its API takes the admin token (as a bearer
	// token or the Basic auth password), or is open with Insecure.
	DashboardAddr string
	// Coordinator overrides coordinator settings (zero fields default).
	Coordinator coordinator.Config
	// Insecure runs every listener in plaintext without authentication
	// (`vodfleet dev --insecure`). Otherwise the cluster runs on mTLS with
	// a throwaway CA and role certificates under DataDir/pki (reused on
	// restart) and an admin token (see security.EnsureDevPKI).
	Insecure bool
	// OriginTLS serves the storage HTTP origin over TLS with client
	// certificates; the edge presents its own. Off by default: players and
	// tools may read the origin directly on loopback.
	OriginTLS bool
	// Agent is the template of every agent's settings (source policy,
	// limits, task timeout; zero fields default). Start sets the id,
	// coordinator address, slots and work dir of each agent itself.
	Agent agent.Config
}

// DefaultConfig is what `vodfleet dev` uses without flags.
func DefaultConfig() Config {
	return Config{
		DataDir:         ".vodfleet",
		Agents:          2,
		AgentSlots:      2,
		EtcdAddr:        "127.0.0.1:7379",
		CoordinatorAddr: "127.0.0.1:7000",
		StorageGRPCAddr: "127.0.0.1:7001",
		StorageHTTPAddr: "127.0.0.1:7002",
		EdgeAddr:        "127.0.0.1:8080",
		MetricsAddr:     "127.0.0.1:7090",
		DashboardAddr:   "127.0.0.1:7003",
		// A dev cluster is a local sandbox: sources on loopback and the
		// local network (a file server on the laptop) are the point.
		Coordinator: coordinator.Config{AllowPrivateSources: true},
		Agent:       agent.Config{AllowPrivateSources: true, Destinations: agent.DestinationConfig{AllowPrivate: true}},
	}
}

// LoopbackConfig is a config for tests: data in dir, every listener on a
// free loopback port, quick retries.
func LoopbackConfig(dir string) Config {
	c := DefaultConfig()
	c.DataDir = dir
	c.EtcdAddr, c.CoordinatorAddr, c.StorageGRPCAddr, c.StorageHTTPAddr, c.EdgeAddr, c.MetricsAddr =
		"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	// Tests that want the dashboard set DashboardAddr themselves.
	c.DashboardAddr = ""
	c.Coordinator.RetryBackoff = 200 * time.Millisecond
	return c
}

// Validate reports invalid settings.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("data dir is required")
	}
	if c.Agents < 0 || c.Agents > 64 {
		return fmt.Errorf("agents %d outside 0..64", c.Agents)
	}
	return nil
}

// Cluster is a running dev cluster.
type Cluster struct {
	// Etcd is the embedded etcd.
	Etcd *etcdserver.Server
	// Storage, Coordinator and Edge are the role nodes.
	Storage     *node.Storage
	Coordinator *node.Coordinator
	Edge        *node.Edge
	// Dashboard is the coordinator's web dashboard (nil when off).
	Dashboard *node.Dashboard
	// Agents are the running agents.
	Agents []*node.Agent
	// Metrics serves the merged metrics of every role (nil when
	// Config.MetricsAddr is empty).
	Metrics *node.MetricsServer
	// PKI is the dev CA and certificates; nil when Insecure.
	PKI *security.DevPKI
	// AdminToken is the dev admin token; empty when Insecure.
	AdminToken string

	log hclog.Logger
}

// Gatherer merges the metrics of every role; the names do not collide
// (one prefix per role, agents labelled by id).
func (c *Cluster) Gatherer() prometheus.Gatherer {
	g := prometheus.Gatherers{c.Coordinator.Registry, c.Storage.Registry, c.Edge.Metrics()}
	for _, a := range c.Agents {
		g = append(g, a.Registry)
	}
	return g
}

// ClientConfig is how a client reaches this cluster: the CA and the admin
// token, or plaintext.
func (c *Cluster) ClientConfig() security.Config {
	cfg := security.DefaultConfig()
	if c.PKI == nil {
		cfg.Insecure = true
		return cfg
	}
	cfg.CAFile, cfg.Token = c.PKI.CAFile, c.AdminToken
	return cfg
}

// Dial connects to one of the cluster's gRPC listeners as the admin.
func (c *Cluster) Dial(addr string) (*grpc.ClientConn, error) {
	sec, err := security.New(c.ClientConfig(), false, c.log)
	if err != nil {
		return nil, err
	}
	return sec.Dial(addr)
}

// roleSecurity is the security of one member of the cluster.
func (c *Cluster) roleSecurity(cfg Config, r security.Role) (*security.Security, error) {
	if cfg.Insecure {
		s := security.DefaultConfig()
		s.Insecure = true
		return security.New(s, true, c.log)
	}
	return security.New(c.PKI.Config(r), true, c.log)
}

// hostsOf returns the non-empty hosts of listen addresses, for the dev
// certificates' names.
func hostsOf(addrs ...string) []string {
	var out []string
	for _, a := range addrs {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" {
			out = append(out, h)
		}
	}
	return out
}

// EdgeURL is the base URL players use.
func (c *Cluster) EdgeURL() string { return "http://" + c.Edge.Addr }

// Start brings every role up; on error, what was started is stopped.
func Start(cfg Config, log hclog.Logger) (_ *Cluster, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dev config: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	c := &Cluster{log: log}
	if !cfg.Insecure {
		hosts := hostsOf(cfg.CoordinatorAddr, cfg.StorageGRPCAddr, cfg.StorageHTTPAddr)
		if c.PKI, err = security.EnsureDevPKI(filepath.Join(dataDir, "pki"), hosts, time.Now()); err != nil {
			return nil, err
		}
		if c.AdminToken, err = c.PKI.AdminToken(); err != nil {
			return nil, err
		}
	}
	storeSec, err := c.roleSecurity(cfg, security.RoleStorage)
	if err != nil {
		return nil, err
	}
	edgeSec, err := c.roleSecurity(cfg, security.RoleEdge)
	if err != nil {
		return nil, err
	}
	coordSec, err := c.roleSecurity(cfg, security.RoleCoordinator)
	if err != nil {
		return nil, err
	}
	agentSec, err := c.roleSecurity(cfg, security.RoleAgent)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.Etcd, err = etcdserver.Start(filepath.Join(dataDir, "etcd"), cfg.EtcdAddr, log.Named("etcd")); err != nil {
		return nil, err
	}
	scfg := storage.DefaultConfig()
	scfg.Dir = filepath.Join(dataDir, "storage")
	var originTLS *tls.Config
	if cfg.OriginTLS && !cfg.Insecure {
		originTLS = storeSec.OriginServerTLS()
	}
	if c.Storage, err = node.StartStorage(scfg, storeSec, cfg.StorageGRPCAddr, cfg.StorageHTTPAddr, originTLS, log); err != nil {
		return nil, err
	}
	ecfg := edge.DefaultConfig()
	ecfg.Origin = c.Storage.HTTPURL()
	ecfg.OriginTLS = edgeSec.ClientTLS()
	if c.Edge, err = node.StartEdge(ecfg, cfg.EdgeAddr, log); err != nil {
		return nil, err
	}
	ccfg := cfg.Coordinator
	if ccfg.PlaybackBaseURL == "" {
		ccfg.PlaybackBaseURL = c.EdgeURL()
	}
	if c.Coordinator, err = node.StartCoordinator(ccfg, coordSec, []storage.Node{{ID: scfg.NodeID, Address: c.Storage.GRPCAddr}}, []string{c.Etcd.Endpoint()}, cfg.CoordinatorAddr, log); err != nil {
		return nil, err
	}
	if cfg.DashboardAddr != "" {
		if c.Dashboard, err = node.StartDashboard(c.Coordinator.C, dashboard.Config{Authenticate: node.DashboardAuth(coordSec, log)}, cfg.DashboardAddr, log); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= cfg.Agents; i++ {
		acfg := cfg.Agent
		acfg.ID = fmt.Sprintf("agent-%d", i)
		acfg.Coordinators = []string{c.Coordinator.Addr}
		acfg.Slots = cfg.AgentSlots
		acfg.DialOptions = agentSec.DialOptions()
		acfg.WorkDir = filepath.Join(dataDir, fmt.Sprintf("agent-%d", i))
		if acfg.DrainTimeout == 0 {
			// A dev cluster stops as a whole: unfinished tasks are handed
			// back quickly and resume after the next start.
			acfg.DrainTimeout = 2 * time.Second
		}
		a, err := node.StartAgent(acfg, log)
		if err != nil {
			return nil, err
		}
		c.Agents = append(c.Agents, a)
	}
	if cfg.MetricsAddr != "" {
		if c.Metrics, err = node.ServeMetrics(cfg.MetricsAddr, c.Gatherer(), log); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops every role, agents first.
func (c *Cluster) Close() {
	if c.Metrics != nil {
		_ = c.Metrics.Close()
	}
	for _, a := range c.Agents {
		_ = a.Close()
	}
	if c.Dashboard != nil {
		_ = c.Dashboard.Close()
	}
	if c.Coordinator != nil {
		_ = c.Coordinator.Close()
	}
	if c.Edge != nil {
		_ = c.Edge.Close()
	}
	if c.Storage != nil {
		_ = c.Storage.Close()
	}
	if c.Etcd != nil {
		c.Etcd.Close()
	}
}
