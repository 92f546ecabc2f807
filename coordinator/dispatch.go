package coordinator

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// This file is the lease half of the leader: granting tasks to agents,
// renewing leases on progress, accepting completions and failures, and
// expiring leases whose agent went quiet. Every method runs on the loop.

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// stagingPrefix is where an attempt uploads its outputs before publishing.
func stagingPrefix(t *v1.Task) string {
	return fmt.Sprintf("staging/%s/%d/", t.GetId(), t.GetAttempt())
}

// assetPrefix is where a published asset's objects live.
func assetPrefix(assetID string) string { return "assets/" + assetID + "/" }

// ready reports whether a pending task may be leased now.
func (l *leader) ready(jr *jobRecord, tr *taskRecord, now time.Time) bool {
	t := tr.task
	if t.GetState() != v1.TaskState_TASK_STATE_PENDING {
		return false
	}
	if l.stagedKeys[l.store.keys.task(jr.job.GetId(), t.GetName())] != nil {
		return false // its last write is not committed: its revision, the next token, is not known yet
	}
	if nb := t.GetNotBefore(); nb != nil && nb.AsTime().After(now) {
		return false
	}
	for _, d := range t.GetDependsOn() {
		dep := jr.tasks[d]
		if dep == nil || dep.task.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || !dep.task.GetPublished() {
			return false
		}
	}
	return true
}

// leaseOf returns the running task a message refers to, or an error when
// the lease is not the current one for that agent.
func (l *leader) leaseOf(agentID, taskID string, token int64) (*jobRecord, *taskRecord, error) {
	jr, tr := l.findTask(taskID)
	if tr == nil {
		return nil, nil, fmt.Errorf("task %s: %w", taskID, ErrNotFound)
	}
	t := tr.task
	if t.GetState() != v1.TaskState_TASK_STATE_RUNNING || t.GetLeaseToken() != token || t.GetAgentId() != agentID {
		return nil, nil, fmt.Errorf("task %s token %d (current %d on %q): %w", taskID, token, t.GetLeaseToken(), t.GetAgentId(), ErrStaleLease)
	}
	return jr, tr, nil
}

// refuse tells an agent to drop the attempt (lease token) of a task it no
// longer holds. If the agent holds a newer lease of the same task, that one
// keeps its slot and keeps running.
func (l *leader) refuse(s *session, taskID string, token int64, err error) {
	l.log.Warn("refusing agent message", "agent", s.agentID, "task", taskID, "error", err)
	if _, tr := l.findTask(taskID); tr == nil || tr.task.GetAgentId() != s.agentID || tr.task.GetState() != v1.TaskState_TASK_STATE_RUNNING {
		delete(s.running, taskID)
	}
	s.send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Cancel{Cancel: &v1.CancelTask{TaskId: taskID, Reason: err.Error(), LeaseToken: token}}})
}

// attach registers an agent session and confirms the leases it still holds.
func (l *leader) attach(s *session, held []*v1.HeldLease) *v1.SessionAccepted {
	if old := l.sessions[s.agentID]; old != nil {
		old.close()
	}
	l.sessions[s.agentID] = s
	acc := &v1.SessionAccepted{}
	for _, h := range held {
		if _, tr, err := l.leaseOf(s.agentID, h.GetTaskId(), h.GetLeaseToken()); err == nil {
			s.running[h.GetTaskId()] = true
			tr.task.LeaseDeadline = timestamp(l.clock.Now().Add(l.cfg.LeaseDuration))
			acc.ConfirmedTaskIds = append(acc.ConfirmedTaskIds, h.GetTaskId())
		}
	}
	l.log.Info("agent attached", "agent", s.agentID, "slots", s.slots, "reattached", len(acc.ConfirmedTaskIds))
	return acc
}

// detach forgets a session. Its leases stay until they expire, so an agent
// that reconnects in time keeps its work.
func (l *leader) detach(s *session) {
	if l.sessions[s.agentID] == s {
		delete(l.sessions, s.agentID)
		l.log.Info("agent detached", "agent", s.agentID, "running", len(s.running))
	}
	s.close()
}

// handle dispatches one message from an agent's stream.
func (l *leader) handle(s *session, m *v1.ConnectRequest) {
	s.suspectUntil = time.Time{} // it is alive
	switch msg := m.GetMsg().(type) {
	case *v1.ConnectRequest_Progress:
		l.progress(s, msg.Progress)
	case *v1.ConnectRequest_Drain:
		s.draining = true
		l.log.Info("agent draining", "agent", s.agentID, "running", len(s.running))
	default:
		l.log.Warn("unexpected agent message", "agent", s.agentID, "type", fmt.Sprintf("%T", msg))
	}
}

// progress renews a lease and records how far the task is.
func (l *leader) progress(s *session, p *v1.TaskProgress) {
	jr, tr, err := l.leaseOf(s.agentID, p.GetTaskId(), p.GetLeaseToken())
	if err != nil {
		l.refuse(s, p.GetTaskId(), p.GetLeaseToken(), err)
		return
	}
	now := l.clock.Now()
	tr.task.Progress = clamp(p.GetProgress(), 0, 1)
	tr.task.Fps = clamp(p.GetFps(), 0, 1e6)
	tr.task.Speed = clamp(p.GetSpeed(), 0, 1e6)
	tr.task.EtaSeconds = clamp(p.GetEtaSeconds(), 0, 1e9)
	if isTransfer(tr.task) {
		tr.task.BytesDone, tr.task.BytesTotal = max(p.GetBytesDone(), 0), max(p.GetBytesTotal(), 0)
	}
	tr.task.LeaseDeadline = timestamp(now.Add(l.cfg.LeaseDuration))
	if now.Sub(tr.persisted) < progressPersistEvery {
		return
	}
	l.stage(l.taskWrite(jr.job.GetId(), tr))
	tr.persisted = now
}

// clamp bounds an agent-reported number; NaN becomes lo, so a bad report
// can never poison stored state (JSON cannot even encode NaN).
func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return min(max(v, lo), hi)
}

// completed accepts a task's result. Success is committed in etcd first
// (fenced, token-checked); moving the staged outputs into the asset is then
// applied by publish, which a new leader re-applies after a crash.
// A stale lease returns ErrStaleLease and nothing of the attempt is used.
func (l *leader) completed(c *v1.CompleteTaskRequest) error {
	l.alive(c.GetAgentId())
	jr, tr, err := l.leaseOf(c.GetAgentId(), c.GetTaskId(), c.GetLeaseToken())
	if err != nil {
		l.log.Warn("refusing completion", "agent", c.GetAgentId(), "task", c.GetTaskId(), "error", err)
		return err
	}
	l.freeSlot(tr.task)
	l.metrics.observeAttempt(tr, "succeeded", l.clock.Now())
	t := tr.task
	res := c.GetResult()
	switch t.GetSpec().GetKind() {
	case v1.TaskKind_TASK_KIND_PROBE:
		if res.GetProbe() == nil {
			l.fail(jr, tr, "probe returned no result", false)
			return nil
		}
		l.probed(jr, tr, res)
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO, v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		if res.GetTrack() == nil {
			l.fail(jr, tr, "encode returned no track", false)
			return nil
		}
		res.GetTrack().Dir = trackDir(t)
		l.succeed(jr, tr, res)
	case v1.TaskKind_TASK_KIND_PACKAGE:
		if res.GetPackage() == nil {
			l.fail(jr, tr, "package returned no manifests", false)
			return nil
		}
		l.succeed(jr, tr, res)
	case v1.TaskKind_TASK_KIND_TRANSFER:
		if res.GetTransfer() == nil {
			l.fail(jr, tr, "transfer returned no result", false)
			return nil
		}
		l.transferred(jr, tr, res)
	case v1.TaskKind_TASK_KIND_THUMBNAILS, v1.TaskKind_TASK_KIND_SUBTITLES, v1.TaskKind_TASK_KIND_MUX:
		if res.GetResult() == nil {
			l.fail(jr, tr, t.GetSpec().GetKind().String()+" returned no result", false)
			return nil
		}
		l.succeed(jr, tr, res)
	default:
		l.fail(jr, tr, "unknown task kind "+t.GetSpec().GetKind().String(), false)
	}
	return nil
}

// publishTarget is where a task's staged outputs go inside its asset.
func publishTarget(jr *jobRecord, t *v1.Task) string {
	if d := trackDir(t); d != "" {
		return assetPrefix(jr.job.GetAssetId()) + d + "/"
	}
	return assetPrefix(jr.job.GetAssetId())
}

// publishRetry spaces out re-publishing while storage is unavailable.
const publishRetry = time.Second

// publish moves a committed task's staged outputs into the asset and
// records that; the package task's publish completes the job. Publish is
// idempotent (a second move finds nothing staged), so it is safe to repeat
// after a crash between the move and the record. On a storage error the
// tick retries it.
func (l *leader) publish(jr *jobRecord, tr *taskRecord) {
	if tr.publishing || l.clock.Now().Before(tr.nextPublish) {
		return
	}
	tr.publishing = true
	from, to := stagingPrefix(tr.task), publishTarget(jr, tr.task)
	// Storage is called off the loop: a slow or hung storage node must not
	// stall leases, grants and reports.
	go func() {
		ctx, cancel := context.WithTimeout(l.ctx, publishTimeout)
		n, err := l.pub.Publish(ctx, jr.job.GetStorageNode(), from, to)
		cancel()
		l.post(func() { l.published(jr, tr, n, err) })
	}()
}

// publishTimeout bounds one Publish call.
const publishTimeout = 30 * time.Second

// published records the outcome of a publish on the loop.
func (l *leader) published(jr *jobRecord, tr *taskRecord, n int, err error) {
	tr.publishing = false
	if l.jobs[jr.job.GetId()] != jr || tr.task.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || tr.task.GetPublished() {
		return // the job ended meanwhile, or another publish already landed
	}
	if err != nil {
		tr.nextPublish = l.clock.Now().Add(publishRetry)
		l.log.Warn("publish failed, will retry", "task", tr.task.GetId(), "error", err)
		return
	}
	l.log.Debug("published", "task", tr.task.GetId(), "objects", n)
	tr.task.Published = true
	if tr.task.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_PACKAGE {
		pkg := tr.task.GetResult().GetPackage()
		jr.job.HlsMaster = pkg.GetHlsMaster()
		jr.job.DashManifest = pkg.GetDashManifest()
		jr.job.HdsManifest = pkg.GetHdsManifest()
		jr.job.Mp4 = pkg.GetMp4()
		jr.job.Poster = pkg.GetPoster()
		jr.job.ThumbnailsVtt = pkg.GetThumbnailsVtt()
		if hasTransfers(jr) {
			// Published: the transfer tasks may run; the job ends with them.
			l.stage(l.jobWrite(jr), l.taskWrite(jr.job.GetId(), tr))
			return
		}
		l.finishJob(jr, v1.JobState_JOB_STATE_SUCCEEDED, "", l.taskWrite(jr.job.GetId(), tr))
		return
	}
	l.stage(l.taskWrite(jr.job.GetId(), tr))
}

// publishPending re-applies publishes that a crash or a storage outage
// left undone.
func (l *leader) publishPending() {
	for _, id := range l.jobOrder() {
		jr := l.jobs[id]
		for _, tr := range jr.tasks {
			if tr.task.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED && !tr.task.GetPublished() {
				l.publish(jr, tr)
				if l.failed != nil || l.jobs[id] == nil {
					break
				}
			}
		}
	}
}

// succeed stages a task's success and, once that is committed, publishes
// its outputs (publish after commit: a stale or lost attempt never lands).
func (l *leader) succeed(jr *jobRecord, tr *taskRecord, res *v1.TaskResult) {
	tr.task.State = v1.TaskState_TASK_STATE_SUCCEEDED
	tr.task.Result = res
	tr.task.Progress = 1
	tr.task.Error = ""
	tr.task.Published = false
	l.stage(l.taskWrite(jr.job.GetId(), tr))
	l.afterCommit(func() {
		if l.jobs[jr.job.GetId()] == jr && !tr.task.GetPublished() {
			l.publish(jr, tr)
		}
	})
}

// probed records the probe and plans the encodes in one write. A source
// that breaks the configured limits (see checkSourceLimits) fails the job
// at once: retrying cannot change the source.
func (l *leader) probed(jr *jobRecord, tr *taskRecord, res *v1.TaskResult) {
	if err := checkSourceLimits(l.cfg, res.GetProbe()); err != nil {
		jr.job.Probe = res.GetProbe() // lets clients see what was measured
		l.fail(jr, tr, err.Error(), false)
		return
	}
	tasks, err := planEncodes(jr.job, res.GetProbe())
	if err != nil {
		l.fail(jr, tr, err.Error(), false)
		return
	}
	tr.task.State = v1.TaskState_TASK_STATE_SUCCEEDED
	tr.task.Result = res
	tr.task.Progress = 1
	tr.task.Published = true // a probe stages nothing
	jr.job.Probe = res.GetProbe()
	ws := []write{l.jobWrite(jr), l.taskWrite(jr.job.GetId(), tr)}
	recs := make([]*taskRecord, 0, len(tasks))
	for _, t := range tasks {
		r := &taskRecord{task: t}
		recs = append(recs, r)
		ws = append(ws, l.taskWrite(jr.job.GetId(), r))
	}
	l.stage(ws...)
	for _, r := range recs {
		jr.tasks[r.task.GetName()] = r
	}
	l.log.Info("job planned", "job", jr.job.GetId(), "tasks", len(tasks))
}

// failedTask handles an agent's failure report; stale leases are refused.
func (l *leader) failedTask(f *v1.FailTaskRequest) error {
	l.alive(f.GetAgentId())
	jr, tr, err := l.leaseOf(f.GetAgentId(), f.GetTaskId(), f.GetLeaseToken())
	if err != nil {
		l.log.Warn("refusing failure report", "agent", f.GetAgentId(), "task", f.GetTaskId(), "error", err)
		return err
	}
	if f.GetHandback() {
		l.metrics.observeAttempt(tr, "handed_back", l.clock.Now())
		l.handback(jr, tr, f.GetError())
		return nil
	}
	l.metrics.observeAttempt(tr, "failed", l.clock.Now())
	l.fail(jr, tr, f.GetError(), f.GetRetryable())
	return nil
}

// handback requeues a lease an agent returned unfinished (drain): at once,
// and without spending the task's attempt budget.
func (l *leader) handback(jr *jobRecord, tr *taskRecord, reason string) {
	t := tr.task
	l.freeSlot(t)
	l.metrics.handbacks.Inc()
	t.State = v1.TaskState_TASK_STATE_PENDING
	t.AttemptsBeforeRetry++
	t.Error = "handed back: " + reason
	t.AgentId, t.LeaseDeadline, t.NotBefore, t.Progress, t.Fps = "", nil, nil, 0, 0
	l.log.Info("lease handed back", "task", t.GetId(), "attempt", t.GetAttempt())
	l.stage(l.taskWrite(jr.job.GetId(), tr))
}

// alive clears an agent's suspicion: it just spoke.
func (l *leader) alive(agentID string) {
	if s := l.sessions[agentID]; s != nil {
		s.suspectUntil = time.Time{}
	}
}

// freeSlot forgets that t's agent runs it.
func (l *leader) freeSlot(t *v1.Task) {
	if s := l.sessions[t.GetAgentId()]; s != nil {
		delete(s.running, t.GetId())
	}
}

// fail ends an attempt. A retryable failure with attempts left requeues
// the task after a backoff; otherwise the task and its job fail.
func (l *leader) fail(jr *jobRecord, tr *taskRecord, reason string, retryable bool) {
	t := tr.task
	l.freeSlot(t)
	maxAttempts := int(jr.job.GetMaxAttempts())
	if maxAttempts <= 0 {
		maxAttempts = l.cfg.MaxAttempts
	}
	t.Error = reason
	noteFailedAgent(t)
	used := int(t.GetAttempt() - t.GetAttemptsBeforeRetry())
	if retryable && used < maxAttempts {
		t.State = v1.TaskState_TASK_STATE_PENDING
		t.NotBefore = timestamp(l.clock.Now().Add(l.backoff(int(t.GetAttempt()))))
		t.AgentId = ""
		t.LeaseDeadline = nil
		l.metrics.retries.Inc()
		l.log.Warn("task attempt failed, will retry", "task", t.GetId(), "attempt", t.GetAttempt(), "error", reason)
		l.stage(l.taskWrite(jr.job.GetId(), tr))
		return
	}
	t.State = v1.TaskState_TASK_STATE_FAILED
	if isTransfer(t) {
		// A destination fails only itself; the asset is published.
		if retryable {
			t.Error = fmt.Sprintf("failed after %d attempts: %s", used, reason)
		}
		l.log.Warn("delivery failed", "task", t.GetId(), "destination", t.GetSpec().GetDestination().GetUrl(), "error", t.GetError())
		l.transferEnded(jr, tr)
		return
	}
	msg := fmt.Sprintf("%s failed: %s", t.GetName(), reason)
	if retryable {
		msg = fmt.Sprintf("%s failed after %d attempts: %s", t.GetName(), used, reason)
	}
	l.finishJob(jr, v1.JobState_JOB_STATE_FAILED, msg, l.taskWrite(jr.job.GetId(), tr))
}

// backoff is the delay before attempt+1: RetryBackoff doubled per attempt.
func (l *leader) backoff(attempt int) time.Duration {
	d := l.cfg.RetryBackoff
	for i := 1; i < attempt && d < l.cfg.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, l.cfg.MaxRetryBackoff)
}

// expireLeases fails every running task whose lease deadline passed.
func (l *leader) expireLeases() {
	now := l.clock.Now()
	for _, id := range l.jobOrder() {
		jr := l.jobs[id]
		for _, tr := range jr.tasks {
			t := tr.task
			if t.GetState() != v1.TaskState_TASK_STATE_RUNNING || t.GetLeaseDeadline().AsTime().After(now) {
				continue
			}
			if s := l.sessions[t.GetAgentId()]; s != nil {
				// Don't hand the retry straight back to a stalled agent.
				s.suspectUntil = now.Add(l.cfg.LeaseDuration)
			}
			l.release(tr, "lease expired")
			l.metrics.leaseExpiries.Inc()
			l.metrics.observeAttempt(tr, "expired", now)
			l.fail(jr, tr, fmt.Sprintf("lease expired: agent %q stopped reporting", t.GetAgentId()), true)
			if l.failed != nil || l.jobs[id] == nil {
				break
			}
		}
	}
}
