package coordinator

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	"github.com/vodfleet/vodfleet/internal/clock"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// jobRecord is the leader's cached copy of a job and its tasks with the
// etcd ModRevisions they were read or written at.
type jobRecord struct {
	job   *v1.Job
	rev   int64
	tasks map[string]*taskRecord
}

// taskRecord is a cached task.
type taskRecord struct {
	task *v1.Task
	rev  int64
	// persisted is when the task was last written; progress-only updates
	// are written at most once per progressPersistEvery.
	persisted time.Time
	// nextPublish delays the next publish attempt after a storage error.
	nextPublish time.Time
	// publishing is set while a Publish call for the task is in flight.
	publishing bool
	// leasedAt is when this leader granted the running attempt (zero for
	// attempts granted by an earlier leader); it times the attempt.
	leasedAt time.Time
	// unschedulableSince is when this leader first saw the task ready with
	// no connected agent able to run it; zero while one can (see
	// unschedulable.go).
	unschedulableSince time.Time
}

// progressPersistEvery throttles progress writes to etcd.
const progressPersistEvery = time.Second

// Storage is the set of storage nodes assets live on (*storage.Pool is
// one): the leader places each new job's asset on a node, tells agents
// where to upload, and publishes there.
type Storage interface {
	// Node resolves a node id ("" is the default node).
	Node(id string) (storage.Node, error)
	// Pick chooses the node for a new asset keyed by key.
	Pick(key string) storage.Node
	// Publish moves every object under from to to on node, atomically.
	Publish(ctx context.Context, node, from, to string) (int, error)
}

// leader runs while this coordinator holds leadership. All its state is
// owned by the goroutine in run; other goroutines hand it work through
// post and do.
type leader struct {
	cfg   Config
	store *Store
	fence Fence
	clock clock.Clock
	pub   Storage
	log   hclog.Logger
	ctx   context.Context
	// metrics belong to the Coordinator and outlive the term.
	metrics *metrics

	events chan func()
	failed error
	// Group commit state (commit.go).
	staged     []*writeGroup
	stagedKeys map[string]*writeGroup
	callbacks  []func()
	jobs       map[string]*jobRecord
	sessions   map[string]*session
	// earlyCancels are jobs whose cancel request arrived (on its own
	// watch) before the job's creation event; addJob cancels them.
	earlyCancels map[string]bool
	// hooks makes webhook deliveries off the loop (deliverer.go);
	// hooksDone is closed once it stopped.
	hooks     *deliverer
	hooksDone chan struct{}
	// catalogKeys locate asset records (catalogWrites).
	catalogKeys catalog.Keys
}

func newLeader(ctx context.Context, c *Coordinator, fence Fence) *leader {
	l := &leader{
		cfg:         c.cfg,
		store:       c.store,
		fence:       fence,
		clock:       c.clock,
		pub:         c.pub,
		log:         c.log.Named("leader").With("fence", fence.Rev),
		ctx:         ctx,
		metrics:     c.metrics,
		events:      make(chan func(), 1024),
		jobs:        map[string]*jobRecord{},
		sessions:    map[string]*session{},
		stagedKeys:  map[string]*writeGroup{},
		hooksDone:   make(chan struct{}),
		catalogKeys: c.catalog.Keys(),
	}
	l.hooks = newDeliverer(l)
	return l
}

// graceRunningLeases gives every lease loaded at takeover at least one full
// lease duration from now, so agents that were cut off by the leader change
// can re-attach (their work continues) before anything expires.
func (l *leader) graceRunningLeases() {
	floor := l.clock.Now().Add(l.cfg.LeaseDuration)
	for _, jr := range l.jobs {
		for _, tr := range jr.tasks {
			t := tr.task
			if t.GetState() == v1.TaskState_TASK_STATE_RUNNING && t.GetLeaseDeadline().AsTime().Before(floor) {
				t.LeaseDeadline = timestamp(floor)
			}
		}
	}
}

// post hands f to the loop; it gives up when leadership ends.
func (l *leader) post(f func()) bool {
	select {
	case l.events <- f:
		return true
	case <-l.ctx.Done():
		return false
	}
}

// do runs f on the loop and waits until what f staged is committed.
func (l *leader) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	if !l.post(func() { f(); l.afterCommit(func() { close(done) }) }) {
		return fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.ctx.Done():
		return fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
}

// run loads state and serves until leadership ends or a write fails.
func (l *leader) run() error {
	snap, err := l.store.load(l.ctx)
	if err != nil {
		close(l.hooksDone)
		return err
	}
	l.jobs = snap.jobs
	l.graceRunningLeases()
	pending, err := l.store.pendingDeliveries(l.ctx, snap.rev)
	if err != nil {
		close(l.hooksDone)
		return err
	}
	for _, p := range pending {
		l.hooks.add(p)
	}
	go func() {
		defer close(l.hooksDone)
		l.hooks.run(l.ctx)
	}()
	l.log.Info("leading", "active_jobs", len(l.jobs), "rev", snap.rev)
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(l.ctx))
	defer cancel()
	jobWatch := l.store.cli.Watch(wctx, l.store.keys.jobs(), clientv3.WithPrefix(), clientv3.WithRev(snap.rev+1))
	cancelWatch := l.store.cli.Watch(wctx, l.store.keys.cancels(), clientv3.WithPrefix(), clientv3.WithRev(snap.rev+1))
	retryWatch := l.store.cli.Watch(wctx, l.store.keys.retries(), clientv3.WithPrefix(), clientv3.WithRev(snap.rev+1))
	ticker := time.NewTicker(l.cfg.TickInterval)
	defer ticker.Stop()
	defer func() {
		for _, s := range l.sessions {
			s.close()
		}
	}()
	for id := range snap.cancels {
		l.cancelJob(id)
	}
	for id := range snap.retries {
		l.retryJob(id)
	}
	for _, id := range l.jobOrder() {
		if jr := l.jobs[id]; jr != nil && jr.job.GetState() == v1.JobState_JOB_STATE_QUEUED && len(jr.tasks) == 0 {
			l.startJob(jr)
		}
	}
	l.settle()
	if l.failed != nil {
		return l.failed
	}
	for {
		select {
		case <-l.ctx.Done():
			return l.ctx.Err()
		case f := <-l.events:
			f()
		case wr, ok := <-jobWatch:
			if !ok || wr.Err() != nil {
				return fmt.Errorf("job watch ended: %v", wr.Err())
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut && ev.IsCreate() {
					l.addJob(ev.Kv)
				}
			}
		case wr, ok := <-cancelWatch:
			if err := forRequests(wr, ok, l.store.keys.cancels(), l.cancelJob); err != nil {
				return err
			}
		case wr, ok := <-retryWatch:
			if err := forRequests(wr, ok, l.store.keys.retries(), l.retryJob); err != nil {
				return err
			}
		case <-ticker.C:
			l.expireLeases()
			l.publishPending()
			l.checkUnschedulable()
		}
		l.drainEvents()
		l.settle()
		if l.failed != nil {
			return l.failed
		}
	}
}

// forRequests calls f with the job id of every request key (cancel or
// retry) put under prefix; a closed or failed watch is an error.
func forRequests(wr clientv3.WatchResponse, ok bool, prefix string, f func(jobID string)) error {
	if !ok || wr.Err() != nil {
		return fmt.Errorf("watch of %s ended: %v", prefix, wr.Err())
	}
	for _, ev := range wr.Events {
		if ev.Type == clientv3.EventTypePut {
			f(strings.TrimPrefix(string(ev.Kv.Key), prefix))
		}
	}
	return nil
}

// burst bounds the events handled before a commit.
const burst = 512

// linger is how long a busy leader waits for more events before it
// commits, so that concurrent reports share one etcd round trip. An idle
// leader (a lone event) commits at once.
const linger = time.Millisecond

// drainEvents handles events already queued, so that they share a commit;
// when events keep coming it lingers briefly for more.
func (l *leader) drainEvents() {
	n := 0
	var timer <-chan time.Time
	for n < burst {
		select {
		case f := <-l.events:
			f()
			n++
			if n == 1 && timer == nil {
				timer = time.After(linger)
			}
			continue
		default:
		}
		if timer == nil {
			return
		}
		select {
		case f := <-l.events:
			f()
			n++
		case <-timer:
			return
		}
	}
}

func (l *leader) jobWrite(jr *jobRecord) write {
	jr.job.UpdatedAt = timestamp(l.clock.Now())
	return write{key: l.store.keys.job(jr.job.GetId()), msg: jr.job, expectRev: jr.rev, revs: []*int64{&jr.rev}}
}

func (l *leader) taskWrite(jobID string, tr *taskRecord) write {
	tr.task.UpdatedAt = timestamp(l.clock.Now())
	return write{key: l.store.keys.task(jobID, tr.task.GetName()), msg: tr.task, expectRev: tr.rev, revs: []*int64{&tr.rev}}
}

// addJob takes a newly created job record from the watch.
func (l *leader) addJob(kv interface {
	GetValue() []byte
	GetModRevision() int64
}) {
	job := &v1.Job{}
	if err := proto.Unmarshal(kv.GetValue(), job); err != nil {
		l.log.Warn("ignoring undecodable job", "error", err)
		return
	}
	if _, ok := l.jobs[job.GetId()]; ok || job.GetState() != v1.JobState_JOB_STATE_QUEUED {
		return
	}
	// The first tasks were created in the same transaction as the job
	// (Store.CreateJob), so they have the job's revision.
	jr := &jobRecord{job: job, rev: kv.GetModRevision(), tasks: map[string]*taskRecord{}}
	for _, t := range firstTasks(job) {
		jr.tasks[t.GetName()] = &taskRecord{task: t, rev: kv.GetModRevision()}
	}
	l.jobs[job.GetId()] = jr
	if other := l.assetBusy(jr); other != "" {
		// Two reencodes (or a reencode and the asset's own job) were
		// accepted at once: the RPC's check raced. The later one fails
		// before it runs, so no version drops the other's renditions.
		l.finishJob(jr, v1.JobState_JOB_STATE_FAILED, "job "+other+" of asset "+job.GetAssetId()+" was running; reencode again once it ended")
		return
	}
	if l.earlyCancels[job.GetId()] {
		delete(l.earlyCancels, job.GetId())
		l.cancelJob(job.GetId())
	}
}

// assetBusy returns the id of another active job of a reencode job's
// asset ("" if none, or if jr is not a reencode).
func (l *leader) assetBusy(jr *jobRecord) string {
	if jr.job.GetReencode() == nil {
		return ""
	}
	for id, other := range l.jobs {
		if id != jr.job.GetId() && other.job.GetAssetId() == jr.job.GetAssetId() && !other.job.GetTransferOnly() {
			return id
		}
	}
	return ""
}

// startJob plans the first tasks of a queued job that has none (a retried
// job that never got past their creation).
func (l *leader) startJob(jr *jobRecord) {
	jr.job.State = v1.JobState_JOB_STATE_RUNNING
	ws := []write{l.jobWrite(jr)}
	var recs []*taskRecord
	for _, t := range firstTasks(jr.job) {
		r := &taskRecord{task: t}
		recs = append(recs, r)
		ws = append(ws, l.taskWrite(jr.job.GetId(), r))
	}
	l.stage(append(ws, l.jobEvent(jr)...)...)
	for _, r := range recs {
		jr.tasks[r.task.GetName()] = r
	}
	l.log.Info("job started", "job", jr.job.GetId())
}

// jobOrder lists active job ids oldest first (ids sort by time).
func (l *leader) jobOrder() []string {
	ids := make([]string, 0, len(l.jobs))
	for id := range l.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// finishJob writes a job's terminal state together with its tasks'
// cancellation, tells agents to stop, and forgets the job.
func (l *leader) finishJob(jr *jobRecord, state v1.JobState, reason string, extra ...write) {
	jr.job.State = state
	jr.job.Error = reason
	ws := append(append([]write{l.jobWrite(jr)}, extra...), l.jobEvent(jr)...)
	switch {
	case jr.job.GetTransferOnly():
		ws = append(ws, l.repushCatalogWrites(jr)...) // only the record's destination states
	case jr.job.GetReencode() != nil:
		// The asset keeps being served from its old manifests unless the
		// reencode succeeded: only then does its record change.
		if state == v1.JobState_JOB_STATE_SUCCEEDED {
			ws = append(ws, l.reencodeCatalogWrites(jr)...)
		}
	default:
		ws = append(ws, l.catalogWrites(jr)...) // catalog record, atomic with the job
	}
	var stop []*taskRecord
	for _, tr := range jr.tasks {
		if isTaskTerminal(tr.task.GetState()) {
			continue
		}
		if tr.task.GetState() == v1.TaskState_TASK_STATE_RUNNING {
			stop = append(stop, tr)
		}
		tr.task.State = v1.TaskState_TASK_STATE_CANCELLED
		ws = append(ws, l.taskWrite(jr.job.GetId(), tr))
	}
	l.stage(ws...)
	for _, tr := range stop {
		l.release(tr, "job "+strings.ToLower(strings.TrimPrefix(state.String(), "JOB_STATE_")))
	}
	delete(l.jobs, jr.job.GetId())
	l.metrics.jobsFinished.WithLabelValues(stateLabel(state, "JOB_STATE_")).Inc()
	l.log.Info("job finished", "job", jr.job.GetId(), "state", state.String(), "error", reason)
}

// release frees the slot holding tr and tells the agent to stop it.
func (l *leader) release(tr *taskRecord, reason string) {
	s := l.sessions[tr.task.GetAgentId()]
	if s == nil || !s.running[tr.task.GetId()] {
		return
	}
	delete(s.running, tr.task.GetId())
	s.send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Cancel{Cancel: &v1.CancelTask{
		TaskId: tr.task.GetId(), Reason: reason, LeaseToken: tr.task.GetLeaseToken()}}})
}

// cancelJob handles a client's cancel request.
func (l *leader) cancelJob(id string) {
	del := write{key: l.store.keys.cancel(id), expectRev: -1}
	jr := l.jobs[id]
	if jr == nil {
		// Either the job finished meanwhile (drop the request), or its
		// creation event, on another watch, has not been handled yet:
		// addJob cancels it when it comes.
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		defer cancel()
		if loaded, err := l.store.loadJob(ctx, id); err == nil && loaded.job.GetState() == v1.JobState_JOB_STATE_QUEUED {
			if l.earlyCancels == nil {
				l.earlyCancels = map[string]bool{}
			}
			l.earlyCancels[id] = true
			return
		}
		l.stage(del)
		return
	}
	l.finishJob(jr, v1.JobState_JOB_STATE_CANCELLED, "cancelled by request", del)
}

// retryJob handles a client's retry request: a FAILED or CANCELLED job
// runs again. Tasks that succeeded keep their outputs; the others go back
// to PENDING with a fresh attempt budget (attempt numbers keep growing, so
// staging prefixes are never reused).
func (l *leader) retryJob(id string) {
	del := write{key: l.store.keys.retry(id), expectRev: -1}
	if _, active := l.jobs[id]; active {
		l.stage(del)
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
	defer cancel()
	jr, err := l.store.loadJob(ctx, id)
	if err != nil {
		l.log.Warn("retry: cannot load job", "job", id, "error", err)
		l.stage(del)
		return
	}
	if s := jr.job.GetState(); s != v1.JobState_JOB_STATE_FAILED && s != v1.JobState_JOB_STATE_CANCELLED {
		l.stage(del)
		return
	}
	if other := l.assetBusy(jr); other != "" {
		l.log.Warn("retry refused: another job of the asset runs", "job", id, "other", other)
		l.stage(del)
		return
	}
	jr.job.State = v1.JobState_JOB_STATE_RUNNING
	jr.job.Error = ""
	ws := []write{del, l.jobWrite(jr)}
	if jr.job.GetReencode() == nil {
		ws = append(ws, l.catalogWrites(jr)...) // record back to PROCESSING (a reencoded asset stays READY)
	}
	if len(jr.tasks) > 0 {
		ws = append(ws, l.jobEvent(jr)...) // RUNNING again (a job never planned emits it in startJob)
	}
	for _, tr := range jr.tasks {
		t := tr.task
		if t.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED {
			continue
		}
		t.State = v1.TaskState_TASK_STATE_PENDING
		t.AttemptsBeforeRetry = t.GetAttempt()
		t.AgentId, t.LeaseDeadline, t.NotBefore, t.Progress, t.Fps = "", nil, nil, 0, 0
		ws = append(ws, l.taskWrite(id, tr))
	}
	if len(jr.tasks) == 0 {
		jr.job.State = v1.JobState_JOB_STATE_QUEUED // never planned: start over
	}
	l.stage(ws...)
	l.jobs[id] = jr
	if jr.job.GetState() == v1.JobState_JOB_STATE_QUEUED {
		l.startJob(jr)
	}
	l.log.Info("job retried", "job", id)
}

// findTask locates an active task by id ("JOB.NAME").
func (l *leader) findTask(id string) (*jobRecord, *taskRecord) {
	jobID, name, ok := strings.Cut(id, ".")
	if !ok {
		return nil, nil
	}
	jr := l.jobs[jobID]
	if jr == nil {
		return nil, nil
	}
	return jr, jr.tasks[name]
}
