package coordinator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// leaderSnapshot is what only the leader knows, copied off its loop for
// metrics and ClusterInfo.
type leaderSnapshot struct {
	// queue counts ready tasks per priority class (HIGH, NORMAL, LOW).
	queue map[v1.Priority]int
	// leases counts running tasks.
	leases int
	// activeJobs counts the jobs the leader holds (QUEUED and RUNNING).
	activeJobs map[v1.JobState]int
	// agents are the connected agents sorted by id.
	agents []*v1.AgentInfo
}

// snapshot copies the leader's view on its loop; it fails when
// leadership ends or ctx does first.
func (l *leader) snapshot(ctx context.Context) (leaderSnapshot, error) {
	out := make(chan leaderSnapshot, 1)
	select {
	case l.events <- func() { out <- l.takeSnapshot() }:
	case <-ctx.Done():
		return leaderSnapshot{}, ctx.Err()
	case <-l.ctx.Done():
		return leaderSnapshot{}, fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
	select {
	case s := <-out:
		return s, nil
	case <-ctx.Done():
		return leaderSnapshot{}, ctx.Err()
	case <-l.ctx.Done():
		return leaderSnapshot{}, fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
}

// takeSnapshot runs on the loop.
func (l *leader) takeSnapshot() leaderSnapshot {
	now := l.clock.Now()
	s := leaderSnapshot{queue: map[v1.Priority]int{}, activeJobs: map[v1.JobState]int{}}
	for _, jr := range l.jobs {
		s.activeJobs[jr.job.GetState()]++
		for _, tr := range jr.tasks {
			if tr.task.GetState() == v1.TaskState_TASK_STATE_RUNNING {
				s.leases++
			}
			if l.ready(jr, tr, now) {
				s.queue[effectivePriority(jr.job.GetPriority())]++
			}
		}
	}
	for _, ss := range l.sessions {
		state := v1.AgentState_AGENT_STATE_CONNECTED
		switch {
		case ss.draining:
			state = v1.AgentState_AGENT_STATE_DRAINING
		case now.Before(ss.suspectUntil):
			state = v1.AgentState_AGENT_STATE_SUSPECT
		}
		s.agents = append(s.agents, &v1.AgentInfo{
			Id:           ss.agentID,
			Slots:        int32(ss.slots),
			Busy:         int32(len(ss.running)),
			State:        state,
			Labels:       maps.Clone(ss.labels),
			RunningTasks: slices.Sorted(maps.Keys(ss.running)),
		})
	}
	sort.Slice(s.agents, func(i, j int) bool { return s.agents[i].GetId() < s.agents[j].GetId() })
	return s
}
