package edge

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds a Server's counters and its private Prometheus registry
// (private, so several Servers in one process, as in tests, never collide
// on the global one). The counters are plain atomics, read by Stats and by
// CounterFuncs at scrape time, so counting a hit is one atomic add.
type metrics struct {
	hits, misses, coalesced, diskHits, stale, bytesSent atomic.Uint64

	requests *prometheus.CounterVec
	// codes caches the requests child of each status code, so the hot path
	// does not hash label values.
	codes [600]atomic.Pointer[prometheus.Counter]

	handler http.Handler
	// reg is the private registry, exposed by Server.Metrics.
	reg *prometheus.Registry
}

// newMetrics registers the edge's metrics, reading cache sizes from t and
// origin counters from f at scrape time. The names are a contract with
// dashboards and the benchmark scripts.
func newMetrics(f *Fetcher, t *tiers) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vodfleet_edge_requests_total",
			Help: "Object requests (/v/ and /t/ paths) answered, by HTTP status code.",
		}, []string{"code"}),
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	tierGauges := func(tier string, objects func() int, bytes func() int64) []prometheus.Collector {
		labels := prometheus.Labels{"tier": tier}
		return []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vodfleet_edge_cache_bytes", Help: "Bytes held by a cache tier.", ConstLabels: labels,
			}, func() float64 { return float64(bytes()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vodfleet_edge_cache_objects", Help: "Objects held by a cache tier.", ConstLabels: labels,
			}, func() float64 { return float64(objects()) }),
		}
	}
	diskObjects := func() int { n, _ := t.diskStats(); return n }
	diskBytes := func() int64 { _, b := t.diskStats(); return b }
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		m.requests,
		counter("vodfleet_edge_cache_hits_total", "Object requests answered from a cache tier.", &m.hits),
		counter("vodfleet_edge_cache_misses_total", "Object requests that waited on the origin.", &m.misses),
		counter("vodfleet_edge_coalesced_waits_total", "Misses that joined another request's origin fetch.", &m.coalesced),
		counter("vodfleet_edge_bytes_sent_total", "Response body bytes written to clients.", &m.bytesSent),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vodfleet_edge_origin_fetches_total", Help: "Requests sent to the origin.",
		}, func() float64 { return float64(f.Fetches()) }),
		f.latency,
	)
	reg.MustRegister(tierGauges("memory", t.mem.Len, t.mem.Bytes)...)
	reg.MustRegister(tierGauges("disk", diskObjects, diskBytes)...)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	m.reg = reg
	return m
}

// request counts one answered object request with status code.
func (m *metrics) request(code int) {
	if code < 0 || code >= len(m.codes) {
		m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
		return
	}
	p := m.codes[code].Load()
	if p == nil {
		c := m.requests.WithLabelValues(strconv.Itoa(code))
		p = &c
		m.codes[code].Store(p)
	}
	(*p).Inc()
}

// Metrics returns the edge's private registry, so a process running several
// roles (vodfleet dev) can serve all their metrics from one endpoint.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics.reg }
