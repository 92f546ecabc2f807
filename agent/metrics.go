package agent

import (
	"errors"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// metrics are an agent's Prometheus metrics. RegisterMetrics adds the
// label agent=<id> to every series, so several agents (vodfleet dev) can
// share one registry and one scrape. The names are a contract with
// dashboards (README "Observability").
type metrics struct {
	taskDuration    *prometheus.HistogramVec
	uploadedBytes   prometheus.Counter
	uploadedObjects prometheus.Counter
	ffmpegFailures  *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		taskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vodfleet_agent_task_duration_seconds",
			Help:    "Wall time of task attempts run here, by task kind and outcome (succeeded, failed, stopped).",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14), // 0.25 s .. ~34 min
		}, []string{"kind", "outcome"}),
		uploadedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vodfleet_agent_uploaded_bytes_total",
			Help: "Bytes of task outputs uploaded to storage.",
		}),
		uploadedObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vodfleet_agent_uploaded_objects_total",
			Help: "Task output files uploaded to storage.",
		}),
		ffmpegFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vodfleet_agent_ffmpeg_failures_total",
			Help: "Task attempts that failed in ffmpeg or ffprobe, by cause: invalid_input (the source is unusable, not retried), stalled (killed by the stall watchdog or the probe time limit), no_space (ffmpeg's output disk is full) or ffmpeg (anything else).",
		}, []string{"cause"}),
	}
}

// observeTask records the end of an attempt of a task of kind k.
func (m *metrics) observeTask(k v1.TaskKind, outcome string, seconds float64, err error) {
	m.taskDuration.WithLabelValues(strings.ToLower(strings.TrimPrefix(k.String(), "TASK_KIND_")), outcome).Observe(seconds)
	switch {
	case err == nil:
	case ffmpeg.IsPermanent(err):
		m.ffmpegFailures.WithLabelValues("invalid_input").Inc()
	case errors.Is(err, ffmpeg.ErrStalled):
		m.ffmpegFailures.WithLabelValues("stalled").Inc()
	case errors.Is(err, ffmpeg.ErrNoSpace):
		m.ffmpegFailures.WithLabelValues("no_space").Inc()
	case errors.Is(err, ffmpeg.ErrFailed), errors.Is(err, ffmpeg.ErrBadPlaylist):
		m.ffmpegFailures.WithLabelValues("ffmpeg").Inc()
	}
}

// RegisterMetrics registers the agent's metrics with r, each series
// labelled agent=<id>.
func (a *Agent) RegisterMetrics(r prometheus.Registerer) error {
	r = prometheus.WrapRegistererWith(prometheus.Labels{"agent": a.cfg.ID}, r)
	for _, c := range []prometheus.Collector{
		a.metrics.taskDuration, a.metrics.uploadedBytes, a.metrics.uploadedObjects, a.metrics.ffmpegFailures,
		runningCollector{a},
	} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	slotsDesc = prometheus.NewDesc("vodfleet_agent_slots",
		"Task slots, busy (holding a lease) or free.", []string{"state"}, nil)
	connectedDesc = prometheus.NewDesc("vodfleet_agent_connected",
		"1 while the agent has a session with the leader.", nil, nil)
	taskFPSDesc = prometheus.NewDesc("vodfleet_agent_task_fps",
		"Encode speed in frames per second of each running task, as ffmpeg reports it.", []string{"task", "kind"}, nil)
	fpsDesc = prometheus.NewDesc("vodfleet_agent_encode_fps",
		"Sum of the encode fps of the running tasks: the agent's current throughput.", nil, nil)
)

// runningCollector reads the slots and running tasks at scrape time.
type runningCollector struct{ a *Agent }

// Describe implements prometheus.Collector.
func (c runningCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{slotsDesc, connectedDesc, taskFPSDesc, fpsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c runningCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	type fps struct {
		task, kind string
		v          float64
	}
	a.mu.Lock()
	busy := len(a.running)
	connected := a.leader != nil
	tasks := make([]fps, 0, len(a.running))
	for id, rt := range a.running {
		v := 0.0
		if rt.run != nil {
			v = math.Float64frombits(rt.run.fps.Load())
		}
		tasks = append(tasks, fps{id, strings.ToLower(strings.TrimPrefix(rt.grant.GetTask().GetSpec().GetKind().String(), "TASK_KIND_")), v})
	}
	a.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(slotsDesc, float64(busy), "busy")
	gauge(slotsDesc, float64(max(a.cfg.Slots-busy, 0)), "free")
	conn := 0.0
	if connected {
		conn = 1
	}
	gauge(connectedDesc, conn)
	total := 0.0
	for _, t := range tasks {
		gauge(taskFPSDesc, t.v, t.task, t.kind)
		total += t.v
	}
	gauge(fpsDesc, total)
}
