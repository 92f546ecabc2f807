// Package coordinator plans jobs into tasks and leases them to agents. Any
// number of coordinators run against one etcd cluster; one is leader
// through an etcd election, and only the leader's loop writes job and task
// state, always fenced on its election key.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	"github.com/vodfleet/vodfleet/internal/clock"
	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Coordinator is one coordinator process: gRPC services for clients and
// agents, and a campaign for leadership.
type Coordinator struct {
	cfg    Config
	cli    *clientv3.Client
	store  *Store
	pub    Storage
	clock  clock.Clock
	ids    ids.Generator
	log    hclog.Logger
	leader atomic.Pointer[leader]
	// metrics are shared by every leadership term (metrics.go).
	metrics *metrics
	// catalog holds asset records, presets and destinations (coordinator/catalog).
	catalog *catalog.Store
}

// Option changes a Coordinator's collaborators (for tests).
type Option func(*Coordinator)

// WithClock sets the clock used for lease deadlines and retry backoff.
func WithClock(c clock.Clock) Option { return func(co *Coordinator) { co.clock = c } }

// WithIDs sets the job id generator.
func WithIDs(g ids.Generator) Option { return func(co *Coordinator) { co.ids = g } }

// New returns a coordinator. cfg is completed with defaults and validated.
func New(cfg Config, cli *clientv3.Client, pub Storage, log hclog.Logger, opts ...Option) (*Coordinator, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coordinator config: %w", err)
	}
	log = log.Named("coordinator")
	c := &Coordinator{
		cfg:   cfg,
		cli:   cli,
		store: NewStore(cli, cfg.Prefix, log),
		pub:   pub,
		clock: clock.Real{},
		ids:   ids.TimeRandom{},
		log:   log,
	}
	c.metrics = newMetrics()
	for _, o := range opts {
		o(c)
	}
	if len(cfg.Webhooks.URLs) > 0 && len(cfg.Webhooks.Secret) == 0 {
		log.Warn("webhooks configured without a secret: deliveries are unsigned")
	}
	c.catalog = catalog.NewStore(cli, cfg.Prefix, func() time.Time { return c.clock.Now() }, log)
	return c, nil
}

// Register adds the job, agent, cluster and catalog services to s.
func (c *Coordinator) Register(s *grpc.Server) {
	v1.RegisterJobServiceServer(s, &jobService{c: c})
	v1.RegisterAgentServiceServer(s, &agentService{c: c})
	v1.RegisterClusterServiceServer(s, &clusterService{c: c})
	catalog.NewService(c.catalog, c.checkPreset, c.assetInUse, c.log).Register(s)
}

// IsLeader reports whether this coordinator currently leads.
func (c *Coordinator) IsLeader() bool { return c.leader.Load() != nil }

// Run campaigns for leadership and leads while elected, until ctx ends.
// Losing the etcd session ends leadership at once; on return the
// coordinator resigns so a follower takes over without waiting for the TTL.
func (c *Coordinator) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := c.term(ctx)
		if ctx.Err() != nil {
			break
		}
		c.log.Warn("leadership term ended", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// term is one campaign and, if won, one leadership term.
func (c *Coordinator) term(ctx context.Context) error {
	ttl := int((c.cfg.SessionTTL + time.Second - 1) / time.Second)
	sess, err := concurrency.NewSession(c.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("etcd session: %w", err)
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, c.store.keys.leader())
	if err := el.Campaign(ctx, c.cfg.AdvertiseAddress); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	fence := Fence{Key: el.Key(), Rev: el.Rev()}
	l := newLeader(lctx, c, fence)
	c.leader.Store(l)
	c.log.Info("elected leader", "key", fence.Key, "rev", fence.Rev)
	err = l.run()
	c.leader.Store(nil)
	cancel()
	<-l.hooksDone // webhook deliveries stop with leadership
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer rcancel()
	if rerr := el.Resign(rctx); rerr != nil {
		c.log.Warn("resign failed", "error", rerr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// leaderAddress returns the current leader's advertised address.
func (c *Coordinator) leaderAddress(ctx context.Context) (string, error) {
	resp, err := c.cli.Get(ctx, c.store.keys.leader()+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("find leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
