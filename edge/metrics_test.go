package edge

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// scrape parses a /metrics body into each sample's value by its name and
// labels as printed, e.g. `vodfleet_edge_requests_total{code="200"}`.
func scrape(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	samples := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetrics(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/seg.m4s", []byte("0123456789"))
	_, ts := newTestEdge(t, o.srv.URL, nil)
	get := func() []byte {
		resp, body := do(t, ts, "GET", "/metrics", nil)
		expectStatus(t, resp, 200)
		return body
	}
	before := scrape(t, get())
	for _, name := range []string{
		"vodfleet_edge_cache_hits_total", "vodfleet_edge_cache_misses_total",
		"vodfleet_edge_coalesced_waits_total", "vodfleet_edge_bytes_sent_total",
		"vodfleet_edge_origin_fetches_total", "vodfleet_edge_origin_latency_seconds_count",
		`vodfleet_edge_cache_bytes{tier="memory"}`, `vodfleet_edge_cache_bytes{tier="disk"}`,
		`vodfleet_edge_cache_objects{tier="memory"}`, `vodfleet_edge_cache_objects{tier="disk"}`,
	} {
		if v, ok := before[name]; !ok || v != 0 {
			t.Errorf("%s: %v, %v before any request", name, v, ok)
		}
	}

	do(t, ts, "GET", "/v/a1/seg.m4s", nil)                                     // miss
	do(t, ts, "GET", "/v/a1/seg.m4s", nil)                                     // hit
	do(t, ts, "GET", "/v/a1/seg.m4s", map[string]string{"Range": "bytes=0-1"}) // hit, 206
	do(t, ts, "GET", "/v/a1/missing.m4s", nil)                                 // miss, 404
	do(t, ts, "GET", "/v/a1/../x", nil)                                        // 400, sent uncleaned
	m := scrape(t, get())
	want := map[string]float64{
		"vodfleet_edge_cache_hits_total":                         2,
		"vodfleet_edge_cache_misses_total":                       2,
		"vodfleet_edge_origin_fetches_total":                     2,
		"vodfleet_edge_origin_latency_seconds_count":             2,
		"vodfleet_edge_coalesced_waits_total":                    0,
		"vodfleet_edge_bytes_sent_total":                         22,
		`vodfleet_edge_requests_total{code="200"}`:               2,
		`vodfleet_edge_requests_total{code="206"}`:               1,
		`vodfleet_edge_requests_total{code="404"}`:               1,
		`vodfleet_edge_requests_total{code="400"}`:               1,
		`vodfleet_edge_cache_objects{tier="memory"}`:             1,
		`vodfleet_edge_cache_bytes{tier="memory"}`:               float64(len("a1/seg.m4s") + 10),
		`vodfleet_edge_cache_objects{tier="disk"}`:               0,
		`vodfleet_edge_origin_latency_seconds_bucket{le="+Inf"}`: 2,
	}
	for name, v := range want {
		if got, ok := m[name]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
}
