// Package simagent is a simulated agent for benchmarks: it speaks the real
// AgentService protocol over gRPC (hello, leases, completion) but runs no
// ffmpeg: every task completes at once with a tiny plausible result, so
// the coordinator's dispatch path is what gets measured.
package simagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Grant is one lease as the simulated agent received it.
type Grant struct {
	// Task is the granted task.
	Task *v1.Task
	// At is when the grant arrived.
	At time.Time
	// From is the coordinator address of the session it came on.
	From string
	// Agent is the receiving agent's id.
	Agent string
}

// Agent is one simulated agent.
type Agent struct {
	// ID and Slots are announced in the hello.
	ID    string
	Slots int
	// Coordinators are tried in turn; NotLeader redirects are followed.
	Coordinators []string
	// Labels, when set, are announced instead of the package's Labels:
	// an injected capability list (e.g. codec.hevc without codec.h264).
	Labels map[string]string
	// Hold keeps leases without completing them (a wedged agent).
	Hold bool
	// CompleteAfter delays each completion (simulated work).
	CompleteAfter time.Duration
	// OnGrant is called for every grant (from the receive goroutine).
	OnGrant func(Grant)
	// DialOptions secure the connections to coordinators (required, from
	// security.Security.DialOptions; the benches say --insecure there).
	DialOptions []grpc.DialOption

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// Labels are what a real agent with libx264 and aac announces.
var Labels = map[string]string{"encoder.libx264": "true", "encoder.aac": "true"}

// Run holds sessions until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	defer a.closeConns()
	next, target := 0, ""
	for ctx.Err() == nil {
		addr := target
		if addr == "" {
			addr = a.Coordinators[next%len(a.Coordinators)]
			next++
		}
		target = ""
		redirect, err := a.session(ctx, addr)
		if redirect != "" && redirect != addr {
			target = redirect
			continue
		}
		if err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func (a *Agent) conn(addr string) (*grpc.ClientConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conns == nil {
		a.conns = map[string]*grpc.ClientConn{}
	}
	if c := a.conns[addr]; c != nil {
		return c, nil
	}
	if len(a.DialOptions) == 0 {
		return nil, errors.New("simagent: DialOptions are required")
	}
	c, err := grpc.NewClient(addr, a.DialOptions...)
	if err != nil {
		return nil, err
	}
	a.conns[addr] = c
	return c, nil
}

func (a *Agent) closeConns() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		_ = c.Close()
	}
}

// session runs one stream; it returns the leader address on a redirect.
func (a *Agent) session(ctx context.Context, addr string) (string, error) {
	conn, err := a.conn(addr)
	if err != nil {
		return "", err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := v1.NewAgentServiceClient(conn)
	stream, err := client.Connect(sctx)
	if err != nil {
		return "", err
	}
	labels := a.Labels
	if labels == nil {
		labels = Labels
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{
		AgentId: a.ID, Slots: int32(a.Slots), Labels: labels}}}); err != nil {
		return "", err
	}
	first, err := stream.Recv()
	if err != nil {
		return "", err
	}
	if nl := first.GetNotLeader(); nl != nil {
		return nl.GetLeaderAddress(), errors.New("not leader")
	}
	if first.GetAccepted() == nil {
		return "", fmt.Errorf("unexpected reply %v", first)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return "", err
		}
		g := m.GetGrant()
		if g == nil {
			continue
		}
		if a.OnGrant != nil {
			a.OnGrant(Grant{Task: g.GetTask(), At: time.Now(), From: addr, Agent: a.ID})
		}
		if !a.Hold {
			go a.complete(ctx, client, g)
		}
	}
}

// complete reports success with a result shaped like the real one.
func (a *Agent) complete(ctx context.Context, c v1.AgentServiceClient, g *v1.LeaseGrant) {
	if a.CompleteAfter > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.CompleteAfter):
		}
	}
	req := &v1.CompleteTaskRequest{AgentId: a.ID, TaskId: g.GetTask().GetId(),
		LeaseToken: g.GetLeaseToken(), Result: Result(g.GetTask())}
	// Like a real agent, keep trying (on every coordinator: the leader may
	// have changed) until someone other than a non-leader answers.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.CompleteTask(rctx, req)
		cancel()
		if status.Code(err) != codes.Unavailable {
			return
		}
		conn, cerr := a.conn(a.Coordinators[i%len(a.Coordinators)])
		if cerr != nil {
			return
		}
		c = v1.NewAgentServiceClient(conn)
		time.Sleep(20 * time.Millisecond)
	}
}

// Result is a minimal valid result for a task: a 2x2 video with no audio
// (one rendition), one one-second segment, two manifests.
func Result(t *v1.Task) *v1.TaskResult {
	switch t.GetSpec().GetKind() {
	case v1.TaskKind_TASK_KIND_PROBE:
		return &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: &v1.ProbeResult{
			HasVideo: true, Width: 2, Height: 2, FrameRate: 25, DurationSeconds: 1}}}
	case v1.TaskKind_TASK_KIND_PACKAGE:
		return &v1.TaskResult{Result: &v1.TaskResult_Package{Package: &v1.PackageResult{
			HlsMaster: "master.m3u8", DashManifest: "manifest.mpd"}}}
	default:
		return &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{
			InitName: "init.mp4", Segments: []*v1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 1}}}}}
	}
}
