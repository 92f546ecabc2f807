package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// maxSlots bounds what an agent may announce.
const maxSlots = 256

// agentService implements v1.AgentServiceServer.
type agentService struct {
	v1.UnimplementedAgentServiceServer
	c *Coordinator
}

// Connect runs one agent session: hello, then grants out and reports in
// until either side ends it or leadership changes.
func (a *agentService) Connect(stream v1.AgentService_ConnectServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil {
		return toStatus(fmt.Errorf("first message must be a hello: %w", ErrInvalid))
	}
	if !ids.Valid(hello.GetAgentId()) {
		return toStatus(fmt.Errorf("agent id %q must be 1-64 of [A-Za-z0-9_-]: %w", hello.GetAgentId(), ErrInvalid))
	}
	if hello.GetSlots() < 1 || hello.GetSlots() > maxSlots {
		return toStatus(fmt.Errorf("slots %d outside 1..%d: %w", hello.GetSlots(), maxSlots, ErrInvalid))
	}
	l := a.c.leader.Load()
	if l == nil {
		ctx, cancel := context.WithTimeout(stream.Context(), 5*time.Second)
		defer cancel()
		addr, err := a.c.leaderAddress(ctx)
		if err != nil {
			return toStatus(err)
		}
		return stream.Send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_NotLeader{NotLeader: &v1.NotLeader{LeaderAddress: addr}}})
	}
	log := a.c.log.Named("agent-session").With("agent", hello.GetAgentId())
	s := newSession(hello)
	var acc *v1.SessionAccepted
	if err := l.do(stream.Context(), func() { acc = l.attach(s, hello.GetHeld()) }); err != nil {
		return toStatus(err)
	}
	defer l.post(func() { l.detach(s) })
	if n, err := a.c.pub.Node(""); err == nil {
		acc.StorageAddress = n.Address
	}
	if err := stream.Send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Accepted{Accepted: acc}}); err != nil {
		return err
	}
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			if !l.post(func() { l.handle(s, m) }) {
				recvErr <- fmt.Errorf("leadership ended: %w", ErrNotLeader)
				return
			}
		}
	}()
	for {
		select {
		case m := <-s.out:
			if err := stream.Send(m); err != nil {
				return err
			}
		case err := <-recvErr:
			if errors.Is(err, io.EOF) {
				log.Debug("agent closed session")
				return nil
			}
			return toStatus(err)
		case <-s.closed:
			return status.Error(codes.Unavailable, "session replaced or too slow")
		case <-l.ctx.Done():
			return status.Error(codes.Unavailable, "leadership ended; reconnect to the new leader")
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
}

// leaderCall runs f on the leader's loop, or answers Unavailable when this
// coordinator does not lead (the agent retries on the leader).
func (a *agentService) leaderCall(ctx context.Context, agentID, taskID string, f func(l *leader) error) error {
	if !ids.Valid(agentID) || taskID == "" {
		return toStatus(fmt.Errorf("agent id %q and task id %q are required: %w", agentID, taskID, ErrInvalid))
	}
	l := a.c.leader.Load()
	if l == nil {
		return toStatus(ErrNotLeader)
	}
	var err error
	if derr := l.do(ctx, func() { err = f(l) }); derr != nil {
		return toStatus(derr)
	}
	return toStatus(err)
}

// CompleteTask accepts a completion for the current lease only.
func (a *agentService) CompleteTask(ctx context.Context, req *v1.CompleteTaskRequest) (*v1.CompleteTaskResponse, error) {
	if err := a.leaderCall(ctx, req.GetAgentId(), req.GetTaskId(), func(l *leader) error { return l.completed(req) }); err != nil {
		return nil, err
	}
	return &v1.CompleteTaskResponse{}, nil
}

// FailTask accepts a failure report for the current lease only.
func (a *agentService) FailTask(ctx context.Context, req *v1.FailTaskRequest) (*v1.FailTaskResponse, error) {
	if err := a.leaderCall(ctx, req.GetAgentId(), req.GetTaskId(), func(l *leader) error { return l.failedTask(req) }); err != nil {
		return nil, err
	}
	return &v1.FailTaskResponse{}, nil
}
