package coordinator

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// metrics are the coordinator's Prometheus metrics. Counters and the
// histogram are process-wide (they survive leadership terms, and stay zero
// on a coordinator that never led); the gauges are read from the leader's
// loop at scrape time by snapshotCollector, so a follower reports only
// vodfleet_coordinator_leader 0. The names are a contract with dashboards
// (README "Observability").
type metrics struct {
	leaseExpiries prometheus.Counter
	retries       prometheus.Counter
	handbacks     prometheus.Counter
	jobsFinished  *prometheus.CounterVec
	taskDuration  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	return &metrics{
		leaseExpiries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vodfleet_coordinator_lease_expiries_total",
			Help: "Task leases that expired because their agent stopped reporting.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vodfleet_coordinator_task_retries_total",
			Help: "Failed task attempts requeued for another attempt (expired leases included).",
		}),
		handbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vodfleet_coordinator_task_handbacks_total",
			Help: "Leases returned unfinished by draining agents.",
		}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vodfleet_coordinator_jobs_finished_total",
			Help: "Jobs this coordinator finished while leading, by final state.",
		}, []string{"state"}),
		taskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vodfleet_coordinator_task_duration_seconds",
			Help:    "Time from lease grant to the attempt's end, by task kind and outcome (succeeded, failed, expired, handed_back).",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14), // 0.25 s .. ~34 min
		}, []string{"kind", "outcome"}),
	}
}

// observeAttempt records the end of a leased attempt of tr with outcome.
// Attempts granted by an earlier leader have no grant time here and are
// not observed.
func (m *metrics) observeAttempt(tr *taskRecord, outcome string, now time.Time) {
	if tr.leasedAt.IsZero() {
		return
	}
	m.taskDuration.WithLabelValues(kindLabel(tr.task.GetSpec().GetKind()), outcome).Observe(now.Sub(tr.leasedAt).Seconds())
	tr.leasedAt = time.Time{}
}

// kindLabel is a task kind as a metric label: "encode_video".
func kindLabel(k v1.TaskKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "TASK_KIND_"))
}

// stateLabel is an enum value as a metric label without its prefix.
func stateLabel(s interface{ String() string }, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

// RegisterMetrics registers the coordinator's metrics with r (a per-node
// registry, so several coordinators in one process do not collide).
func (c *Coordinator) RegisterMetrics(r prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{
		c.metrics.leaseExpiries, c.metrics.retries, c.metrics.handbacks,
		c.metrics.jobsFinished, c.metrics.taskDuration, snapshotCollector{c},
	} {
		if err := r.Register(col); err != nil {
			return err
		}
	}
	return nil
}

var (
	leaderDesc = prometheus.NewDesc("vodfleet_coordinator_leader",
		"1 while this coordinator leads, else 0; the other vodfleet_coordinator gauges are only exported by the leader.", nil, nil)
	queueDesc = prometheus.NewDesc("vodfleet_coordinator_queue_depth",
		"Ready tasks waiting for a slot, by priority class.", []string{"priority"}, nil)
	leasesDesc = prometheus.NewDesc("vodfleet_coordinator_leases_active",
		"Running task leases.", nil, nil)
	activeJobsDesc = prometheus.NewDesc("vodfleet_coordinator_jobs",
		"Unfinished jobs by state (queued, running).", []string{"state"}, nil)
	agentsDesc = prometheus.NewDesc("vodfleet_coordinator_agents",
		"Connected agents by state (connected, draining, suspect).", []string{"state"}, nil)
	agentSlotsDesc = prometheus.NewDesc("vodfleet_coordinator_agent_slots",
		"Task slots of connected agents, busy or free.", []string{"state"}, nil)
)

// snapshotScrapeTimeout bounds how long a scrape waits for the leader's loop.
const snapshotScrapeTimeout = 2 * time.Second

// snapshotCollector exports the leader's gauges, read at scrape time.
type snapshotCollector struct{ c *Coordinator }

// Describe implements prometheus.Collector.
func (s snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{leaderDesc, queueDesc, leasesDesc, activeJobsDesc, agentsDesc, agentSlotsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	l := s.c.leader.Load()
	if l == nil {
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotScrapeTimeout)
	defer cancel()
	snap, err := l.snapshot(ctx)
	if errors.Is(err, ErrNotLeader) {
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, 0)
		return
	}
	if err != nil {
		// Still leading, but the loop did not answer in time: report
		// leadership, and no stale or made-up gauges.
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, 1)
		return
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(leaderDesc, 1)
	for _, p := range priorityClasses {
		gauge(queueDesc, snap.queue[p], stateLabel(p, "PRIORITY_"))
	}
	gauge(leasesDesc, snap.leases)
	for _, st := range []v1.JobState{v1.JobState_JOB_STATE_QUEUED, v1.JobState_JOB_STATE_RUNNING} {
		gauge(activeJobsDesc, snap.activeJobs[st], stateLabel(st, "JOB_STATE_"))
	}
	agents := map[v1.AgentState]int{}
	busy, total := 0, 0
	for _, a := range snap.agents {
		agents[a.GetState()]++
		busy += int(a.GetBusy())
		total += int(a.GetSlots())
	}
	for _, st := range []v1.AgentState{v1.AgentState_AGENT_STATE_CONNECTED, v1.AgentState_AGENT_STATE_DRAINING, v1.AgentState_AGENT_STATE_SUSPECT} {
		gauge(agentsDesc, agents[st], stateLabel(st, "AGENT_STATE_"))
	}
	gauge(agentSlotsDesc, busy, "busy")
	gauge(agentSlotsDesc, max(total-busy, 0), "free")
}
