package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// taskRun is the context a runner works in.
type taskRun struct {
	grant *v1.LeaseGrant
	dir   string // private scratch directory, removed afterwards
	log   hclog.Logger
	// progress holds math.Float64bits of the fraction done and fps;
	// speed and eta those of the speed (x real time) and seconds left.
	progress, fps, speed, eta atomic.Uint64
	// bytesDone and bytesTotal are a transfer's progress in bytes.
	bytesDone, bytesTotal atomic.Int64
}

func (r *taskRun) setProgress(p, fps float64) {
	r.progress.Store(math.Float64bits(p))
	r.fps.Store(math.Float64bits(fps))
}

func (r *taskRun) setBytes(done, total int64) {
	r.bytesDone.Store(done)
	r.bytesTotal.Store(total)
}

func (r *taskRun) setSpeed(speed, eta float64) {
	r.speed.Store(math.Float64bits(speed))
	r.eta.Store(math.Float64bits(eta))
}

// errPermanent marks failures that retrying cannot fix.
var errPermanent = errors.New("permanent failure")

// start runs a granted task in its own goroutine.
func (a *Agent) start(ctx context.Context, g *v1.LeaseGrant) {
	id := g.GetTask().GetId()
	tctx, cancel := context.WithCancel(ctx)
	a.mu.Lock()
	if old, dup := a.running[id]; dup {
		if old.grant.GetLeaseToken() >= g.GetLeaseToken() {
			a.mu.Unlock()
			cancel()
			a.log.Warn("duplicate grant ignored", "task", id)
			return
		}
		// A newer lease of a task we still run (our old lease expired):
		// the old attempt is dead weight, the new one starts clean.
		old.cancel()
	}
	run := a.newTaskRun(g)
	a.running[id] = &runningTask{grant: g, cancel: cancel, run: run}
	a.tasks.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.tasks.Done()
		a.execute(ctx, tctx, run)
	}()
}

// stopLease stops a task if it runs under the given lease (0: any).
func (a *Agent) stopLease(id string, token int64) {
	a.mu.Lock()
	rt := a.running[id]
	a.mu.Unlock()
	if rt != nil && (token == 0 || rt.grant.GetLeaseToken() == token) {
		a.stop(id)
	}
}

// stop cancels a task (killing its ffmpeg process group) and frees its slot.
func (a *Agent) stop(id string) {
	a.mu.Lock()
	rt := a.running[id]
	delete(a.running, id)
	a.mu.Unlock()
	if rt != nil {
		rt.cancel()
	}
}

func (a *Agent) stopAll() {
	a.mu.Lock()
	ids := make([]string, 0, len(a.running))
	for id := range a.running {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	for _, id := range ids {
		a.stop(id)
	}
}

// stillHeld reports whether the lease is still ours (not cancelled).
func (a *Agent) stillHeld(g *v1.LeaseGrant) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	rt := a.running[g.GetTask().GetId()]
	return rt != nil && rt.grant == g
}

// execute runs a task under ctx, heartbeating progress, and reports the
// outcome; reports wait for a session until agentCtx ends.
func (a *Agent) execute(agentCtx, ctx context.Context, run *taskRun) {
	g := run.grant
	t := g.GetTask()
	log := run.log
	defer os.RemoveAll(run.dir)
	hbCtx, hbStop := context.WithCancel(ctx)
	go a.heartbeat(hbCtx, run)
	start := time.Now()
	res, err := a.runTask(ctx, run)
	err = diskError(err, run.dir)
	if err != nil && !errors.Is(err, errNoSpace) && !errors.Is(err, errDiskWrite) {
		// An output ffmpeg could not finish for lack of space often
		// fails later, as an empty playlist: say why.
		if full := fullDisk(run.dir, err); full != nil {
			err = full
		}
	}
	hbStop()
	if !a.stillHeld(g) {
		a.metrics.observeTask(t.GetSpec().GetKind(), "stopped", time.Since(start).Seconds(), nil)
		log.Info("task stopped", "after", time.Since(start).Round(time.Millisecond))
		return
	}
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
	}
	a.metrics.observeTask(t.GetSpec().GetKind(), outcome, time.Since(start).Seconds(), err)
	a.stop(t.GetId())
	token := g.GetLeaseToken()
	if err != nil {
		log.Warn("task failed", "error", err)
		req := &v1.FailTaskRequest{
			AgentId: a.cfg.ID, TaskId: t.GetId(), LeaseToken: token, Error: err.Error(),
			Retryable: !errors.Is(err, errPermanent) && !ffmpeg.IsPermanent(err),
		}
		a.deliver(agentCtx, t.GetId(), func(ctx context.Context, c v1.AgentServiceClient) error {
			_, err := c.FailTask(ctx, req)
			return err
		})
		return
	}
	log.Info("task done", "took", time.Since(start).Round(time.Millisecond))
	req := &v1.CompleteTaskRequest{AgentId: a.cfg.ID, TaskId: t.GetId(), LeaseToken: token, Result: res}
	a.deliver(agentCtx, t.GetId(), func(ctx context.Context, c v1.AgentServiceClient) error {
		_, err := c.CompleteTask(ctx, req)
		return err
	})
}

// newTaskRun prepares the context of an attempt of g.
func (a *Agent) newTaskRun(g *v1.LeaseGrant) *taskRun {
	t := g.GetTask()
	return &taskRun{
		grant: g,
		dir:   filepath.Join(a.cfg.WorkDir, "tasks", fmt.Sprintf("%s-%d", t.GetId(), g.GetAttempt())),
		log:   a.log.With("task", t.GetId(), "attempt", g.GetAttempt()),
	}
}

// heartbeat reports progress every interval; that renews the lease even
// while a task uploads or ffmpeg prints nothing.
func (a *Agent) heartbeat(ctx context.Context, run *taskRun) {
	tick := time.NewTicker(a.cfg.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.report(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Progress{Progress: &v1.TaskProgress{
				TaskId:     run.grant.GetTask().GetId(),
				LeaseToken: run.grant.GetLeaseToken(),
				Progress:   math.Float64frombits(run.progress.Load()),
				Fps:        math.Float64frombits(run.fps.Load()),
				Speed:      math.Float64frombits(run.speed.Load()),
				EtaSeconds: math.Float64frombits(run.eta.Load()),
				BytesDone:  run.bytesDone.Load(),
				BytesTotal: run.bytesTotal.Load(),
			}}})
		}
	}
}

// runTask dispatches on the task kind.
func (a *Agent) runTask(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	ctx, cancel := a.taskContext(ctx, run.grant.GetTask().GetSpec())
	defer cancel()
	if err := os.MkdirAll(run.dir, 0o755); err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	switch k := run.grant.GetTask().GetSpec().GetKind(); k {
	case v1.TaskKind_TASK_KIND_PROBE:
		return a.probe(ctx, run)
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO, v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		return a.encode(ctx, run)
	case v1.TaskKind_TASK_KIND_PACKAGE:
		return a.pack(ctx, run)
	case v1.TaskKind_TASK_KIND_THUMBNAILS:
		return a.thumbnails(ctx, run)
	case v1.TaskKind_TASK_KIND_SUBTITLES:
		return a.subtitles(ctx, run)
	case v1.TaskKind_TASK_KIND_MUX:
		return a.mux(ctx, run)
	case v1.TaskKind_TASK_KIND_TRANSFER:
		return a.pushAsset(ctx, run)
	default:
		return nil, fmt.Errorf("task kind %s not supported by this agent: %w", k, errPermanent)
	}
}
