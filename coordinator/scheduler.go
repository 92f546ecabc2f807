package coordinator

import (
	"maps"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// maxGrantBatch bounds the grants written in one etcd transaction (etcd
// allows 128 operations per Txn by default; each grant is one put plus one
// compare).
const maxGrantBatch = 60

// pendingGrant is a grant planned in a scheduling pass, not yet written.
type pendingGrant struct {
	jr   *jobRecord
	tr   *taskRecord
	next *v1.Task
	s    *session
}

// schedule grants ready tasks to agents that can run them. Priority
// classes are served strictly from HIGH to LOW; inside a class, jobs take
// turns one task at a time in submission order (round-robin), so a large
// job cannot starve a small one. Grants are staged and sent once their
// (group) commit is durable.
func (l *leader) schedule() {
	for l.failed == nil {
		if l.scheduleBatch() < maxGrantBatch {
			return
		}
	}
}

// scheduleBatch plans and writes up to maxGrantBatch grants; it returns
// how many it made.
func (l *leader) scheduleBatch() int {
	now := l.clock.Now()
	free := map[*session]int{}
	for _, s := range l.sessions {
		if n := s.free(now); n > 0 {
			free[s] = n
		}
	}
	if len(free) == 0 {
		return 0
	}
	batch := planBatch(l.readyByClass(now), free, maxGrantBatch)
	for i := range batch {
		batch[i].next = l.leaseFor(batch[i].jr, batch[i].tr, batch[i].s, now)
	}
	if len(batch) == 0 {
		return 0
	}
	for _, g := range batch {
		g.tr.task, g.tr.persisted, g.tr.leasedAt = g.next, now, now
		g.s.running[g.next.GetId()] = true
		ws := []write{l.taskWrite(g.jr.job.GetId(), g.tr)}
		if g.jr.job.GetState() == v1.JobState_JOB_STATE_QUEUED {
			g.jr.job.State = v1.JobState_JOB_STATE_RUNNING // its first lease
			ws = append(ws, l.jobWrite(g.jr))
			ws = append(ws, l.jobEvent(g.jr)...)
		}
		l.stage(ws...)
		s, jr, t := g.s, g.jr, g.next
		l.afterCommit(func() { l.sendGrant(s, jr, t) })
	}
	return len(batch)
}

// planBatch picks up to limit (task, agent) pairs: classes in order; inside
// a class, jobs take turns one task at a time until no job has a task a
// free, capable agent can take. The renditions of one chunk are one turn
// and go to one agent together (see chunkGroup), so it decodes the chunk
// once; while no agent has room for them, the job's other tasks (audio,
// thumbnails, ...) still take free slots. free is decremented as slots are
// used.
func planBatch(classes [][]jobQueue, free map[*session]int, limit int) []pendingGrant {
	var batch []pendingGrant
	for _, class := range classes {
		for progress := true; progress && len(batch) < limit; {
			progress = false
			for i := range class {
				q := &class[i]
				for len(q.tasks) > 0 && len(batch) < limit {
					group := chunkGroup(q.tasks)
					s, n := pickAgentFor(free, group)
					if s == nil {
						// No capable agent has room for the group: it
						// waits for the next pass, and the job's next
						// tasks get their chance.
						q.tasks = q.tasks[len(group):]
						continue
					}
					n = min(n, limit-len(batch))
					for _, tr := range group[:n] {
						batch = append(batch, pendingGrant{jr: q.jr, tr: tr, s: s})
					}
					// Renditions the agent could not hold stay queued
					// as a smaller group for a later turn.
					q.tasks = q.tasks[n:]
					free[s] -= n
					progress = true
					break // round-robin: one task (or chunk) per job per turn
				}
			}
		}
	}
	return batch
}

// chunkGroup returns the first task of tasks with the siblings that
// follow it (video tasks are queued chunk by chunk) and need the same
// agent labels: the renditions of one chunk that one agent should encode
// from one decode. Any other task is a group of one.
func chunkGroup(tasks []*taskRecord) []*taskRecord {
	first := tasks[0].task
	n := 1
	for n < len(tasks) && siblings(first, tasks[n].task) &&
		maps.Equal(first.GetSpec().GetRequires(), tasks[n].task.GetSpec().GetRequires()) {
		n++
	}
	return tasks[:n]
}

// siblings reports whether two video encodes cover the same slice of the
// same job's timeline, so an agent can encode them from one decode.
func siblings(a, b *v1.Task) bool {
	sa, sb := a.GetSpec(), b.GetSpec()
	return sa.GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO && sb.GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO &&
		a.GetJobId() == b.GetJobId() && (sa.GetChunk() == nil) == (sb.GetChunk() == nil) &&
		sa.GetChunk().GetIndex() == sb.GetChunk().GetIndex() &&
		sa.GetFrameRate() == sb.GetFrameRate() && sa.GetSegmentSeconds() == sb.GetSegmentSeconds()
}

// pickAgentFor returns the agent for a group of tasks (all needing the
// same labels) and how many of them it takes. An agent qualifies when it
// has room for the whole group, or, if it has fewer slots than the group,
// when all its slots are free (it takes as many as it holds, so agents
// smaller than the ladder are not starved). A group is never spread over
// the slots of a busy agent as they free up one by one: that would decode
// the chunk once per rendition. Among qualified agents, those on which
// fewer of the group's tasks already failed win (a retry after a stall or
// a full disk goes elsewhere when it can; see failedOn), then the one
// taking the most tasks, then the one with the most free slots, then the
// lowest id. It returns nil when no agent qualifies.
func pickAgentFor(free map[*session]int, group []*taskRecord) (*session, int) {
	requires := group[0].task.GetSpec().GetRequires()
	var best *session
	bestN, bestFailed := 0, 0
	for s, f := range free {
		if f <= 0 || !hasLabels(s.labels, requires) {
			continue
		}
		need := len(group)
		if s.slots > 0 {
			need = min(need, s.slots)
		}
		if f < need {
			continue
		}
		n := min(f, len(group))
		failed := failedOn(s.agentID, group)
		if best == nil || failed < bestFailed || (failed == bestFailed && (n > bestN ||
			(n == bestN && (f > free[best] || (f == free[best] && s.agentID < best.agentID))))) {
			best, bestN, bestFailed = s, n, failed
		}
	}
	return best, bestN
}

// jobQueue is a job's ready tasks in plan order.
type jobQueue struct {
	jr    *jobRecord
	tasks []*taskRecord
}

// readyByClass returns the jobs with ready tasks, grouped by priority
// class from HIGH to LOW, each class in submission order.
func (l *leader) readyByClass(now time.Time) [][]jobQueue {
	byClass := map[v1.Priority][]jobQueue{}
	for _, id := range l.jobOrder() {
		jr := l.jobs[id]
		var ready []*taskRecord
		for _, tr := range jr.tasks {
			if l.ready(jr, tr, now) {
				ready = append(ready, tr)
			}
		}
		if len(ready) == 0 {
			continue
		}
		sort.Slice(ready, func(i, j int) bool { return taskLess(ready[i].task, ready[j].task) })
		p := effectivePriority(jr.job.GetPriority())
		byClass[p] = append(byClass[p], jobQueue{jr: jr, tasks: ready})
	}
	var out [][]jobQueue
	for _, p := range []v1.Priority{v1.Priority_PRIORITY_HIGH, v1.Priority_PRIORITY_NORMAL, v1.Priority_PRIORITY_LOW} {
		if q := byClass[p]; len(q) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// effectivePriority maps UNSPECIFIED to NORMAL.
func effectivePriority(p v1.Priority) v1.Priority {
	if p == v1.Priority_PRIORITY_UNSPECIFIED {
		return v1.Priority_PRIORITY_NORMAL
	}
	return p
}

// hasLabels reports whether labels has every key of requires with its value.
func hasLabels(labels, requires map[string]string) bool {
	for k, v := range requires {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// leaseFor builds the leased copy of tr for agent s. The fencing token is
// the task record's revision before the grant: the grant rewrites the
// record, so every later grant of the same task gets a strictly larger one.
func (l *leader) leaseFor(jr *jobRecord, tr *taskRecord, s *session, now time.Time) *v1.Task {
	t := proto.Clone(tr.task).(*v1.Task)
	t.State = v1.TaskState_TASK_STATE_RUNNING
	t.Attempt++
	t.LeaseToken = tr.rev
	t.AgentId = s.agentID
	t.LeaseDeadline = timestamp(now.Add(l.cfg.LeaseDuration))
	t.NotBefore = nil
	t.Progress = 0
	t.Fps = 0
	switch t.GetSpec().GetKind() {
	case v1.TaskKind_TASK_KIND_PACKAGE:
		t.Spec.Tracks, t.Spec.Extras = depOutputs(jr, t)
	case v1.TaskKind_TASK_KIND_MUX:
		tracks, _ := depOutputs(jr, t)
		t.Spec.Mux.Video, t.Spec.Mux.Audio = nil, nil
		for _, tk := range tracks {
			if tk.GetWidth() > 0 {
				t.Spec.Mux.Video = tk
			} else if t.Spec.Mux.Audio == nil {
				t.Spec.Mux.Audio = tk
			}
		}
	}
	return t
}

// sendGrant sends a committed lease to the agent, naming the storage node
// of the task's job.
func (l *leader) sendGrant(s *session, jr *jobRecord, t *v1.Task) {
	node, err := l.pub.Node(jr.job.GetStorageNode())
	if err != nil {
		// The node left the configuration after the job was placed; the
		// agent's upload fails and the task is retried until an operator
		// restores the node or cancels the job.
		l.log.Warn("job's storage node is not configured", "job", jr.job.GetId(), "node", jr.job.GetStorageNode(), "error", err)
	}
	s.send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Grant{Grant: &v1.LeaseGrant{
		Task:           t,
		Attempt:        t.GetAttempt(),
		LeaseToken:     t.GetLeaseToken(),
		Deadline:       t.GetLeaseDeadline(),
		StagingPrefix:  stagingPrefix(t),
		StorageNode:    jr.job.GetStorageNode(),
		StorageAddress: node.Address,
	}}})
	l.log.Debug("lease granted", "task", t.GetId(), "agent", s.agentID, "attempt", t.GetAttempt(), "token", t.GetLeaseToken())
}
