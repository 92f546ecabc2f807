package coordinator

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// gauge returns the value of the gauge or counter name with the given
// label values (name=value pairs), and whether it was exported.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue metric
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// TestClusterInfoAndMetrics drives a leader with one agent through a
// granted task, a task no agent can take and a lease expiry, and checks
// what ClusterInfo and the metrics report at each step.
func TestClusterInfoAndMetrics(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	if err := h.c.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	want := func(name string, v float64, labels ...string) {
		t.Helper()
		got, ok := gauge(t, reg, name, labels...)
		if !ok || got != v {
			t.Errorf("%s%v = %v (exported %v), want %v", name, labels, got, ok, v)
		}
	}
	submit := func(req *v1.SubmitJobRequest) string {
		t.Helper()
		req.Source = &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}}
		resp, err := h.jobs.SubmitJob(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetJob().GetId()
	}
	running := submit(&v1.SubmitJobRequest{})
	probe := h.grants(1)["probe"]
	// No agent has gpu=nvidia: this HIGH job's probe waits in the queue.
	waiting := submit(&v1.SubmitJobRequest{Priority: v1.Priority_PRIORITY_HIGH, AgentSelector: map[string]string{"gpu": "nvidia"}})

	var info *v1.GetClusterResponse
	h.eventually("the second job queued", func() bool {
		var err error
		info, err = h.c.ClusterInfo(ctx)
		return err == nil && len(info.GetQueue()) == 3 && info.GetQueue()[0].GetTasks() == 1
	})
	if !info.GetIsLeader() || info.GetLeader() != h.c.cfg.AdvertiseAddress || len(info.GetFollowers()) != 0 {
		t.Errorf("coordinators: is_leader %v leader %q followers %v", info.GetIsLeader(), info.GetLeader(), info.GetFollowers())
	}
	for i, want := range []struct {
		p v1.Priority
		n int32
	}{{v1.Priority_PRIORITY_HIGH, 1}, {v1.Priority_PRIORITY_NORMAL, 0}, {v1.Priority_PRIORITY_LOW, 0}} {
		if q := info.GetQueue()[i]; q.GetPriority() != want.p || q.GetTasks() != want.n {
			t.Errorf("queue[%d] = %v, want %v %d", i, q, want.p, want.n)
		}
	}
	if info.GetActiveLeases() != 1 {
		t.Errorf("active leases %d, want 1", info.GetActiveLeases())
	}
	jobs := map[v1.JobState]int32{}
	for _, j := range info.GetJobs() {
		jobs[j.GetState()] = j.GetCount()
	}
	if jobs[v1.JobState_JOB_STATE_RUNNING] != 1 || jobs[v1.JobState_JOB_STATE_QUEUED] != 1 || len(jobs) != 2 {
		t.Errorf("jobs by state %v, want 1 running (%s), 1 queued (%s)", jobs, running, waiting)
	}
	if len(info.GetAgents()) != 1 {
		t.Fatalf("agents %v, want a1", info.GetAgents())
	}
	a := info.GetAgents()[0]
	if a.GetId() != "a1" || a.GetSlots() != 4 || a.GetBusy() != 1 || a.GetState() != v1.AgentState_AGENT_STATE_CONNECTED ||
		a.GetLabels()["encoder.libx264"] != "true" || !slices.Equal(a.GetRunningTasks(), []string{probe.GetTask().GetId()}) {
		t.Errorf("agent %v, want a1 connected, 1/4 busy running %s", a, probe.GetTask().GetId())
	}
	want("vodfleet_coordinator_leader", 1)
	want("vodfleet_coordinator_queue_depth", 1, "priority", "high")
	want("vodfleet_coordinator_queue_depth", 0, "priority", "normal")
	want("vodfleet_coordinator_leases_active", 1)
	want("vodfleet_coordinator_jobs", 1, "state", "running")
	want("vodfleet_coordinator_jobs", 1, "state", "queued")
	want("vodfleet_coordinator_agent_slots", 1, "state", "busy")
	want("vodfleet_coordinator_agent_slots", 3, "state", "free")
	want("vodfleet_coordinator_agents", 1, "state", "connected")

	// The probe's lease expires in silence: one expiry, one retry, the
	// attempt timed as expired, and the agent is suspect.
	h.clock.Advance(11 * time.Second)
	h.eventually("the probe lease to expire", func() bool {
		v, _ := gauge(t, reg, "vodfleet_coordinator_lease_expiries_total")
		return v == 1
	})
	if m := h.recv(); m.GetCancel().GetTaskId() != probe.GetTask().GetId() {
		t.Fatalf("expired lease not cancelled on the agent: %v", m)
	}
	want("vodfleet_coordinator_task_retries_total", 1)
	want("vodfleet_coordinator_task_duration_seconds", 1, "kind", "probe", "outcome", "expired")
	want("vodfleet_coordinator_leases_active", 0)
	want("vodfleet_coordinator_agents", 1, "state", "suspect")
	info, err := h.c.ClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := info.GetAgents()[0].GetState(); st != v1.AgentState_AGENT_STATE_SUSPECT {
		t.Errorf("agent state after a silent expiry %s, want SUSPECT", st)
	}

	// A follower (never campaigned here) exports only leader 0.
	follower, err := New(Config{AdvertiseAddress: "follower:1"}, h.c.cli, h.pub, h.c.log)
	if err != nil {
		t.Fatal(err)
	}
	freg := prometheus.NewRegistry()
	if err := follower.RegisterMetrics(freg); err != nil {
		t.Fatal(err)
	}
	if v, ok := gauge(t, freg, "vodfleet_coordinator_leader"); !ok || v != 0 {
		t.Errorf("follower leader gauge %v %v, want 0", v, ok)
	}
	if _, ok := gauge(t, freg, "vodfleet_coordinator_leases_active"); ok {
		t.Error("follower exports leases_active")
	}
	fi, err := follower.ClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fi.GetIsLeader() || fi.GetLeader() != h.c.cfg.AdvertiseAddress || len(fi.GetAgents()) != 0 || len(fi.GetJobs()) != 2 {
		t.Errorf("follower answered %v; want the leader named, job counts, no agents", fi)
	}
}
