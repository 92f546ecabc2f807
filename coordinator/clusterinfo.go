package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sort"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// priorityClasses lists the scheduling classes from first served to last.
var priorityClasses = []v1.Priority{v1.Priority_PRIORITY_HIGH, v1.Priority_PRIORITY_NORMAL, v1.Priority_PRIORITY_LOW}

// ClusterInfo returns a snapshot of the cluster as this coordinator sees
// it: the coordinators (from the election keys), job counts by state (from
// etcd) and, on the leader only, the queue, leases and agents. It is the one
// place that lists agents, so `vodfleet cluster`, the gRPC API and a web
// dashboard all show the same thing. A follower answers with IsLeader false
// and names the leader.
func (c *Coordinator) ClusterInfo(ctx context.Context) (*v1.GetClusterResponse, error) {
	resp := &v1.GetClusterResponse{AnsweredBy: c.cfg.AdvertiseAddress}
	candidates, err := c.candidates(ctx)
	if err != nil {
		return nil, err
	}
	if len(candidates) > 0 {
		resp.Leader, resp.Followers = candidates[0], candidates[1:]
	}
	counts, err := c.store.CountJobs(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range sortedStates(counts) {
		resp.Jobs = append(resp.Jobs, &v1.JobStateCount{State: st, Count: int32(counts[st])})
	}
	l := c.leader.Load()
	if l == nil {
		return resp, nil
	}
	snap, err := l.snapshot(ctx)
	if errors.Is(err, ErrNotLeader) {
		// Leadership ended between the check and the snapshot: answer as
		// a follower would.
		return resp, nil
	}
	if err != nil {
		return nil, err
	}
	resp.IsLeader = true
	for _, p := range priorityClasses {
		resp.Queue = append(resp.Queue, &v1.QueueDepth{Priority: p, Tasks: int32(snap.queue[p])})
	}
	resp.ActiveLeases = int32(snap.leases)
	resp.Agents = snap.agents
	return resp, nil
}

// candidates returns the advertise addresses of the campaigning
// coordinators in election order: the leader first, then the followers in
// the order they would take over.
func (c *Coordinator) candidates(ctx context.Context) ([]string, error) {
	resp, err := c.cli.Get(ctx, c.store.keys.leader()+"/", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("read election keys: %w", err)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Value))
	}
	return out, nil
}

// CountJobs returns how many jobs are in each state. It reads every job
// record, so it costs one etcd range over the jobs.
func (s *Store) CountJobs(ctx context.Context) (map[v1.JobState]int, error) {
	resp, err := s.cli.Get(ctx, s.keys.jobs(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	counts := map[v1.JobState]int{}
	job := &v1.Job{}
	for _, kv := range resp.Kvs {
		job.Reset()
		if err := proto.Unmarshal(kv.Value, job); err != nil {
			s.log.Warn("skipping undecodable job record", "key", string(kv.Key), "error", err)
			continue
		}
		counts[job.GetState()]++
	}
	return counts, nil
}

// sortedStates returns the states of counts in life-cycle order.
func sortedStates(counts map[v1.JobState]int) []v1.JobState {
	out := make([]v1.JobState, 0, len(counts))
	for st := range counts {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// clusterService implements v1.ClusterServiceServer over ClusterInfo.
type clusterService struct {
	v1.UnimplementedClusterServiceServer
	c *Coordinator
}

// GetCluster answers with ClusterInfo.
func (s *clusterService) GetCluster(ctx context.Context, _ *v1.GetClusterRequest) (*v1.GetClusterResponse, error) {
	resp, err := s.c.ClusterInfo(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}
