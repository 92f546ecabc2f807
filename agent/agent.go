package agent

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Agent is one agent process.
type Agent struct {
	cfg    Config
	log    hclog.Logger
	source *sourceCache

	// outbox carries progress to whichever session is current.
	outbox chan *v1.ConnectRequest

	// labels are announced in every hello: detected encoders plus the
	// operator's labels.
	labels map[string]string
	// draining is set once Run's context ends: no new leases.
	draining atomic.Bool
	// tasks counts task goroutines until their outcome is delivered.
	tasks sync.WaitGroup

	mu      sync.Mutex
	running map[string]*runningTask
	// leader is the AgentService client of the current session, nil
	// between sessions; completions and failures are unary calls on it.
	leader v1.AgentServiceClient
	// stores holds one connection per storage node address.
	stores *storeConns
	// fusion shares one ffmpeg run among sibling video encodes.
	fusion fusion
	// metrics are exported through RegisterMetrics (metrics.go).
	metrics *metrics
}

// runningTask is a lease being worked on.
type runningTask struct {
	grant  *v1.LeaseGrant
	cancel context.CancelFunc
	// run exposes the attempt's progress (fps) to metrics.
	run *taskRun
}

// outboxSize bounds queued progress reports; more are dropped (the next
// one supersedes them).
const outboxSize = 1024

// New returns an agent; cfg is completed with defaults and validated.
func New(cfg Config, log hclog.Logger) (*Agent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	log = log.Named("agent").With("agent", cfg.ID)
	stores, err := newStoreConns(cfg.StorageAddress, cfg.DialOptions)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	a := &Agent{
		cfg:     cfg,
		stores:  stores,
		log:     log,
		source:  newSourceCache(cfg, log),
		outbox:  make(chan *v1.ConnectRequest, outboxSize),
		running: map[string]*runningTask{},
	}
	a.metrics = newMetrics()
	return a, nil
}

// Run keeps a session with the leader until ctx ends, reconnecting with
// jittered exponential backoff and following leader redirects. When ctx
// ends the agent drains: it tells the leader to grant it nothing more, lets
// running tasks finish and report for up to DrainTimeout, hands back what is
// still running after that, and returns.
func (a *Agent) Run(ctx context.Context) error {
	// Scratch left by a previous run belongs to leases this process never
	// held; it is garbage.
	if err := os.RemoveAll(filepath.Join(a.cfg.WorkDir, "tasks")); err != nil {
		a.log.Warn("cannot clear stale task scratch", "error", err)
	}
	if a.labels == nil {
		if err := a.Probe(ctx); err != nil {
			a.stores.close()
			return err
		}
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		a.connectLoop(runCtx)
	}()
	<-ctx.Done()
	a.drain()
	stopRun()
	<-loopDone
	a.stopAll()
	a.stores.close()
	return nil
}

// connectLoop runs sessions until ctx ends.
func (a *Agent) connectLoop(ctx context.Context) {
	backoff := a.cfg.ReconnectMin
	next := 0
	target := ""
	for ctx.Err() == nil {
		addr := target
		if addr == "" {
			addr = a.cfg.Coordinators[next%len(a.cfg.Coordinators)]
			next++
		}
		target = ""
		redirect, accepted, err := a.session(ctx, addr)
		switch {
		case ctx.Err() != nil:
			return
		case redirect != "" && redirect != addr:
			a.log.Info("following leader", "from", addr, "to", redirect)
			target = redirect
			continue
		case err != nil:
			a.log.Warn("session ended", "coordinator", addr, "error", err)
		}
		if accepted {
			backoff = a.cfg.ReconnectMin
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, a.cfg.ReconnectMax)
	}
}

// drainMsg asks the leader for no more leases.
var drainMsg = &v1.ConnectRequest{Msg: &v1.ConnectRequest_Drain{Drain: &v1.AgentDrain{}}}

// drain stops taking leases and waits for running tasks, handing back the
// ones still running after DrainTimeout.
func (a *Agent) drain() {
	a.draining.Store(true)
	select {
	case a.outbox <- drainMsg:
	case <-time.After(time.Second):
	}
	a.mu.Lock()
	n := len(a.running)
	a.mu.Unlock()
	a.log.Info("draining", "running", n, "timeout", a.cfg.DrainTimeout)
	done := make(chan struct{})
	go func() { a.tasks.Wait(); close(done) }()
	select {
	case <-done:
		a.log.Info("drained")
		return
	case <-time.After(a.cfg.DrainTimeout):
	}
	a.mu.Lock()
	var grants []*v1.LeaseGrant
	for _, rt := range a.running {
		grants = append(grants, rt.grant)
	}
	a.mu.Unlock()
	for _, g := range grants {
		a.handBack(g)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		a.log.Warn("tasks still stopping after hand-back")
	}
}

// handBack stops a task and returns its lease to the leader unfinished.
func (a *Agent) handBack(g *v1.LeaseGrant) {
	id := g.GetTask().GetId()
	a.stop(id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := &v1.FailTaskRequest{AgentId: a.cfg.ID, TaskId: id, LeaseToken: g.GetLeaseToken(), Error: "agent " + a.cfg.ID + " is shutting down", Handback: true}
	a.deliver(ctx, id, func(ctx context.Context, c v1.AgentServiceClient) error {
		_, err := c.FailTask(ctx, req)
		return err
	})
	a.log.Info("lease handed back", "task", id)
}

// Probe finds the agent's capability labels (see capabilityLabels): the
// encoders that work, the codecs they cover, the hardware path and the
// operator's labels. It fails, wrapping ErrHWAccelUnavailable, when
// Config.HWAccel names a path that does not work here; callers then stop
// instead of running an agent that cannot do what it was told. Run
// probes first if Probe was not called.
func (a *Agent) Probe(ctx context.Context) error {
	labels, err := capabilityLabels(ctx, a.cfg.Prober, a.cfg.HWAccel, a.cfg.Labels, a.log)
	if err != nil {
		return err
	}
	a.labels = labels
	a.log.Info("capabilities", "labels", labels)
	return nil
}

// Labels returns the labels the agent announces (after Probe).
func (a *Agent) Labels() map[string]string { return maps.Clone(a.labels) }

// hwFor is the hardware path rendition codec c is encoded on: the
// configured one when its encoder for c passed the probe, else software.
func (a *Agent) hwFor(c v1.VideoCodec) ffmpeg.HWAccel {
	if e := a.cfg.HWAccel.Encoder(c); e != "" && a.labels["encoder."+e] == "true" {
		return a.cfg.HWAccel
	}
	return ffmpeg.HWNone
}

// session runs one stream to addr. It returns the leader address when addr
// is a follower, and whether the session was accepted.
func (a *Agent) session(ctx context.Context, addr string) (string, bool, error) {
	conn, err := grpc.NewClient(addr, append(a.cfg.DialOptions,
		// Detect a dead or partitioned leader without waiting for TCP.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}))...)
	if err != nil {
		return "", false, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := v1.NewAgentServiceClient(conn).Connect(sctx)
	if err != nil {
		return "", false, fmt.Errorf("connect %s: %w", addr, err)
	}
	hello := &v1.AgentHello{AgentId: a.cfg.ID, Slots: int32(a.cfg.Slots), Labels: a.labels}
	a.mu.Lock()
	for id, rt := range a.running {
		hello.Held = append(hello.Held, &v1.HeldLease{TaskId: id, LeaseToken: rt.grant.GetLeaseToken()})
	}
	a.mu.Unlock()
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: hello}}); err != nil {
		return "", false, fmt.Errorf("hello: %w", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return "", false, fmt.Errorf("hello reply: %w", err)
	}
	if nl := first.GetNotLeader(); nl != nil {
		return nl.GetLeaderAddress(), false, nil
	}
	acc := first.GetAccepted()
	if acc == nil {
		return "", false, fmt.Errorf("unexpected hello reply %T", first.GetMsg())
	}
	a.keepConfirmed(acc.GetConfirmedTaskIds())
	a.stores.setDefault(acc.GetStorageAddress())
	a.setLeader(v1.NewAgentServiceClient(conn))
	defer a.setLeader(nil)
	if a.draining.Load() {
		if err := stream.Send(drainMsg); err != nil {
			return "", true, err
		}
	}
	a.log.Info("session accepted", "coordinator", addr, "reattached", len(acc.GetConfirmedTaskIds()))

	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			a.handle(ctx, m)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			_ = stream.CloseSend()
			return "", true, nil
		case err := <-recvErr:
			return "", true, err
		case m := <-a.outbox:
			if err := stream.Send(m); err != nil {
				return "", true, err
			}
		}
	}
}

// handle acts on one message from the leader.
func (a *Agent) handle(ctx context.Context, m *v1.ConnectResponse) {
	switch msg := m.GetMsg().(type) {
	case *v1.ConnectResponse_Grant:
		if a.draining.Load() {
			go a.handBack(msg.Grant) // granted before the leader saw the drain
			return
		}
		a.start(ctx, msg.Grant)
	case *v1.ConnectResponse_Cancel:
		a.log.Info("task cancelled by leader", "task", msg.Cancel.GetTaskId(), "reason", msg.Cancel.GetReason())
		a.stopLease(msg.Cancel.GetTaskId(), msg.Cancel.GetLeaseToken())
	default:
		a.log.Warn("unexpected message from leader", "type", fmt.Sprintf("%T", msg))
	}
}

// keepConfirmed stops the tasks the new leader did not confirm.
func (a *Agent) keepConfirmed(confirmed []string) {
	ok := map[string]bool{}
	for _, id := range confirmed {
		ok[id] = true
	}
	a.mu.Lock()
	var drop []string
	for id := range a.running {
		if !ok[id] {
			drop = append(drop, id)
		}
	}
	a.mu.Unlock()
	for _, id := range drop {
		a.log.Warn("lease not confirmed by leader, stopping task", "task", id)
		a.stop(id)
	}
}

// report queues progress for the leader; when the outbox is full it is
// dropped, since the next report supersedes it.
func (a *Agent) report(m *v1.ConnectRequest) {
	select {
	case a.outbox <- m:
	default:
	}
}

func (a *Agent) setLeader(c v1.AgentServiceClient) {
	a.mu.Lock()
	a.leader = c
	a.mu.Unlock()
}

func (a *Agent) leaderClient() v1.AgentServiceClient {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leader
}

// deliver makes a completion or failure call on the leader, retrying
// across reconnects and leader changes until it is answered or ctx ends.
// A refusal (stale lease, task gone) is final: the attempt's outputs are
// simply never published.
func (a *Agent) deliver(ctx context.Context, taskID string, call func(context.Context, v1.AgentServiceClient) error) {
	wait := 100 * time.Millisecond
	for {
		if c := a.leaderClient(); c != nil {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := call(rctx, c)
			cancel()
			switch status.Code(err) {
			case codes.OK:
				return
			case codes.FailedPrecondition, codes.NotFound, codes.InvalidArgument:
				a.log.Warn("leader refused the report; dropping the attempt", "task", taskID, "error", err)
				return
			}
			a.log.Debug("report not delivered, retrying", "task", taskID, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 2*time.Second)
	}
}
