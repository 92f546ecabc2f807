package coordinator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// A task is unschedulable while it could start (PENDING, its dependencies
// done) but no connected agent has every label it requires: a codec
// (codec.av1), an audio encoder, or a label of the job's agent selector
// (gpu=nvidia). The rule, checked on every leader tick:
//
//   - at once, the job's Error says why it waits ("no connected agent can
//     run task ...: it needs ...; agent-1 lacks ..."), visible in GetJob,
//     `vodfleet status` and the dashboard while the job stays QUEUED or
//     RUNNING; it is cleared when an agent able to run the task connects;
//   - once a task has been unschedulable for Config.UnschedulableAfter
//     without a break, the job FAILS with that reason instead of waiting
//     forever.
//
// The time counts from when this leader first saw the task unschedulable
// (it is not persisted): after a leader change, agents get a whole grace
// period to reconnect. Operator labels get the same rule as encoders: a
// job asking for gpu=nvidia fails when no such agent shows up in time;
// raise --unschedulable-after for fleets that scale agents up slowly.

// maxAgentsInReason bounds the agents a reason lists.
const maxAgentsInReason = 5

// checkUnschedulable applies the rule to every active job.
func (l *leader) checkUnschedulable() {
	now := l.clock.Now()
	for _, id := range l.jobOrder() {
		jr := l.jobs[id]
		var stuck *taskRecord
		for _, tr := range jr.tasks {
			if !l.waitsForAgent(jr, tr) || l.someAgentCan(tr.task.GetSpec().GetRequires()) {
				tr.unschedulableSince = time.Time{}
				continue
			}
			if tr.unschedulableSince.IsZero() {
				tr.unschedulableSince = now
			}
			// The longest stuck, then the first by name: the same task
			// every tick.
			if stuck == nil || tr.unschedulableSince.Before(stuck.unschedulableSince) ||
				tr.unschedulableSince.Equal(stuck.unschedulableSince) && tr.task.GetName() < stuck.task.GetName() {
				stuck = tr
			}
		}
		if stuck == nil {
			if jr.job.GetError() != "" {
				// An active job's Error only ever holds the waiting
				// reason (a finished job's is written by finishJob).
				jr.job.Error = ""
				l.stage(l.jobWrite(jr))
			}
			continue
		}
		if waited := now.Sub(stuck.unschedulableSince); waited >= l.cfg.UnschedulableAfter {
			reason := fmt.Sprintf("no agent could run task %s for %s: %s", stuck.task.GetName(), l.cfg.UnschedulableAfter, l.lacking(stuck.task))
			stuck.task.Error = reason
			l.log.Warn("job unschedulable", "job", id, "task", stuck.task.GetName(), "reason", reason)
			l.finishJob(jr, v1.JobState_JOB_STATE_FAILED, reason)
			continue
		}
		reason := fmt.Sprintf("no connected agent can run task %s: %s; the job fails if none can within %s",
			stuck.task.GetName(), l.lacking(stuck.task), l.cfg.UnschedulableAfter)
		if jr.job.GetError() != reason {
			jr.job.Error = reason
			l.stage(l.jobWrite(jr))
			l.log.Info("job waits for a capable agent", "job", id, "task", stuck.task.GetName(), "reason", reason)
		}
	}
}

// waitsForAgent reports whether tr could start now but for an agent: it
// is PENDING and its dependencies are done. Retry backoff does not count
// (an agent is what it would wait for next).
func (l *leader) waitsForAgent(jr *jobRecord, tr *taskRecord) bool {
	if tr.task.GetState() != v1.TaskState_TASK_STATE_PENDING {
		return false
	}
	for _, d := range tr.task.GetDependsOn() {
		dep := jr.tasks[d]
		if dep == nil || dep.task.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || !dep.task.GetPublished() {
			return false
		}
	}
	return true
}

// someAgentCan reports whether a connected agent has every label of
// requires, busy, draining or suspect alike: those will take work again.
func (l *leader) someAgentCan(requires map[string]string) bool {
	for _, s := range l.sessions {
		if hasLabels(s.labels, requires) {
			return true
		}
	}
	return false
}

// lacking describes what task t needs and what each connected agent
// lacks of it, e.g. "it needs codec.av1=true; agent-1 lacks codec.av1=true
// (has codec.h264=true, ...)".
func (l *leader) lacking(t *v1.Task) string {
	req := t.GetSpec().GetRequires()
	var b strings.Builder
	b.WriteString("it needs " + pairs(req, nil))
	if len(l.sessions) == 0 {
		b.WriteString("; no agent is connected")
		return b.String()
	}
	ids := make([]string, 0, len(l.sessions))
	for id := range l.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b.WriteString("; connected agents:")
	for i, id := range ids {
		if i == maxAgentsInReason {
			fmt.Fprintf(&b, " and %d more", len(ids)-i)
			break
		}
		s := l.sessions[id]
		var missing []string
		for k, v := range req {
			if s.labels[k] != v {
				missing = append(missing, k+"="+v)
			}
		}
		sort.Strings(missing)
		fmt.Fprintf(&b, " %s lacks %s (has %s);", id, strings.Join(missing, " "), pairs(s.labels, req))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// pairs formats labels as sorted "k=v" items, leaving out those in skip
// with the same value; "nothing" when empty.
func pairs(labels, skip map[string]string) string {
	var out []string
	for k, v := range labels {
		if sv, ok := skip[k]; !ok || sv != v {
			out = append(out, k+"="+v)
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
