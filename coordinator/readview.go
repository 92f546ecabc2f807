package coordinator

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// This file is the read side that in-process consumers (the web dashboard)
// use without going through gRPC: the same views the JobService answers,
// with sentinel errors instead of gRPC statuses.

// ReadJobs returns up to limit jobs, newest first, completed with
// progress, ETA and playback URLs as ListJobs answers them.
func (c *Coordinator) ReadJobs(ctx context.Context, limit int) ([]*v1.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("limit %d must be positive: %w", limit, ErrInvalid)
	}
	jobs, err := c.store.ListJobs(ctx)
	if err != nil {
		return nil, err
	}
	js := &jobService{c: c}
	out := make([]*v1.Job, 0, min(limit, len(jobs)))
	for _, job := range jobs[:min(limit, len(jobs))] {
		out = append(out, js.view(job, nil))
	}
	return out, nil
}

// ReadJob returns one job and its tasks as GetJob answers them.
func (c *Coordinator) ReadJob(ctx context.Context, id string) (*v1.Job, []*v1.Task, error) {
	return (&jobService{c: c}).read(ctx, id)
}

// AssetURL is the playback URL of path inside an asset through the edge
// (PlaybackBaseURL), or "" when either is unknown. Players load posters,
// thumbnails and manifests from there.
func (c *Coordinator) AssetURL(assetID, path string) string {
	if c.cfg.PlaybackBaseURL == "" || assetID == "" || path == "" {
		return ""
	}
	return strings.TrimSuffix(c.cfg.PlaybackBaseURL, "/") + "/v/" + assetID + "/" + strings.TrimPrefix(path, "/")
}

// LeaderAddress is the advertised address of the current leader ("" when
// there is none), so a follower can point readers to it.
func (c *Coordinator) LeaderAddress(ctx context.Context) (string, error) {
	return c.leaderAddress(ctx)
}

// AgentStatus is one connected agent as the leader sees it.
type AgentStatus struct {
	// ID is the agent's id.
	ID string
	// Slots is how many tasks the agent runs at once; Busy how many
	// leases it holds now.
	Slots, Busy int
	// Labels are the capability labels it announced.
	Labels map[string]string
	// State is "ready", "draining" (no new leases, finishing its work) or
	// "suspect" (a lease expired without a word; no new leases for a while).
	State string
	// Tasks are the ids of the tasks leased to it, sorted.
	Tasks []string
}

// Agents returns the agents connected to this coordinator, sorted by id.
// Only the leader holds agent sessions: a follower answers ErrNotLeader
// (LeaderAddress says where to look).
func (c *Coordinator) Agents(ctx context.Context) ([]AgentStatus, error) {
	l := c.leader.Load()
	if l == nil {
		return nil, fmt.Errorf("agents are known to the leader: %w", ErrNotLeader)
	}
	ch := make(chan []AgentStatus, 1)
	if !l.post(func() { ch <- l.agentStatuses() }) {
		return nil, fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
	select {
	case out := <-ch:
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, fmt.Errorf("leadership ended: %w", ErrNotLeader)
	}
}

// agentStatuses snapshots the sessions; it runs on the leader's loop.
func (l *leader) agentStatuses() []AgentStatus {
	now := l.clock.Now()
	out := make([]AgentStatus, 0, len(l.sessions))
	for _, s := range l.sessions {
		st := AgentStatus{ID: s.agentID, Slots: s.slots, Busy: len(s.running), State: "ready", Labels: map[string]string{}}
		switch {
		case s.draining:
			st.State = "draining"
		case now.Before(s.suspectUntil):
			st.State = "suspect"
		}
		for k, v := range s.labels {
			st.Labels[k] = v
		}
		for id := range s.running {
			st.Tasks = append(st.Tasks, id)
		}
		sort.Strings(st.Tasks)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Catalog returns the catalog store (asset records), which the dashboard
// reads for its catalog view.
func (c *Coordinator) Catalog() *catalog.Store { return c.catalog }
