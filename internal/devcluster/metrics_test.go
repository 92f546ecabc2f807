package devcluster

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// series is one scraped sample: its name, its labels as `k="v"` strings
// and its value.
type series struct {
	name   string
	labels []string
	value  float64
}

// scrape reads a Prometheus text exposition from url.
func scrape(t *testing.T, url string) []series {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	var out []series
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		s := series{name: line[:sp], value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			s.labels = strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), ",")
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// sum adds the values of the series called name that carry every label
// in want (`k="v"`); found is false when none matched.
func sum(all []series, name string, want ...string) (total float64, found bool) {
	for _, s := range all {
		if s.name != name || !hasAll(s.labels, want) {
			continue
		}
		total += s.value
		found = true
	}
	return total, found
}

func hasAll(labels, want []string) bool {
	for _, w := range want {
		ok := false
		for _, l := range labels {
			ok = ok || l == w
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestMetricsAfterJob runs one small job on a dev cluster and checks the
// key series of every role on the merged endpoint, and that storage and
// the edge serve their own on their HTTP listeners.
func TestMetricsAfterJob(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 2})
	fi, err := os.Stat(clip)
	if err != nil {
		t.Fatal(err)
	}
	job := submitFile(t, ctx, jobs, st, clip)
	end := waitJob(t, ctx, jobs, job.GetId())
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	// One player request through the edge: an origin read.
	resp, err := http.Get(end.GetJob().GetHlsUrl())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	m := scrape(t, "http://"+c.Metrics.Addr+"/metrics")
	get := func(name string, labels ...string) float64 {
		t.Helper()
		v, ok := sum(m, name, labels...)
		if !ok {
			t.Errorf("no series %s%v", name, labels)
		}
		return v
	}
	// Coordinator (the leader).
	if v := get("vodfleet_coordinator_leader"); v != 1 {
		t.Errorf("coordinator_leader = %v, want 1", v)
	}
	if v := get("vodfleet_coordinator_task_duration_seconds_count", `kind="encode_video"`, `outcome="succeeded"`); v < 1 {
		t.Errorf("encode_video durations observed = %v, want >= 1", v)
	}
	if v := get("vodfleet_coordinator_task_duration_seconds_count", `kind="package"`, `outcome="succeeded"`); v != 1 {
		t.Errorf("package durations observed = %v, want 1", v)
	}
	if v := get("vodfleet_coordinator_task_duration_seconds_sum", `kind="encode_video"`); v <= 0 {
		t.Errorf("encode_video duration sum = %v, want > 0", v)
	}
	if v := get("vodfleet_coordinator_jobs_finished_total", `state="succeeded"`); v != 1 {
		t.Errorf("jobs_finished{succeeded} = %v, want 1", v)
	}
	for _, p := range []string{"high", "normal", "low"} {
		if v := get("vodfleet_coordinator_queue_depth", `priority="`+p+`"`); v != 0 {
			t.Errorf("queue_depth{%s} = %v after the job, want 0", p, v)
		}
	}
	if v := get("vodfleet_coordinator_leases_active"); v != 0 {
		t.Errorf("leases_active = %v after the job, want 0", v)
	}
	if v := get("vodfleet_coordinator_agents", `state="connected"`); v != 2 {
		t.Errorf("agents{connected} = %v, want 2", v)
	}
	if v := get("vodfleet_coordinator_agent_slots", `state="free"`); v != 4 {
		t.Errorf("agent_slots{free} = %v, want 4 (2 agents x 2)", v)
	}
	// Agents, labelled by id.
	uploaded := get("vodfleet_agent_uploaded_bytes_total")
	if uploaded <= 0 {
		t.Errorf("agent_uploaded_bytes_total = %v, want > 0", uploaded)
	}
	if v := get("vodfleet_agent_task_duration_seconds_count", `outcome="succeeded"`); v < 3 {
		t.Errorf("agent task durations observed = %v, want >= 3 (probe, encodes, package)", v)
	}
	for _, id := range []string{"agent-1", "agent-2"} {
		if v := get("vodfleet_agent_slots", `agent="`+id+`"`, `state="free"`); v != 2 {
			t.Errorf("agent_slots{%s,free} = %v, want 2", id, v)
		}
		if v := get("vodfleet_agent_connected", `agent="`+id+`"`); v != 1 {
			t.Errorf("agent_connected{%s} = %v, want 1", id, v)
		}
	}
	if v, _ := sum(m, "vodfleet_agent_ffmpeg_failures_total"); v != 0 {
		t.Errorf("ffmpeg failures = %v on a good clip", v)
	}
	// Storage: the published asset comes from the agents' uploads; the
	// source is the clip the test uploaded.
	assets := get("vodfleet_storage_bytes", `area="assets"`)
	if assets <= 0 || assets > uploaded {
		t.Errorf("storage_bytes{assets} = %v, want in (0, uploaded %v]", assets, uploaded)
	}
	if v := get("vodfleet_storage_bytes", `area="sources"`); v != float64(fi.Size()) {
		t.Errorf("storage_bytes{sources} = %v, want the clip's %d", v, fi.Size())
	}
	if v := get("vodfleet_storage_objects", `area="assets"`); v < 3 {
		t.Errorf("storage_objects{assets} = %v, want playlists and segments", v)
	}
	if v := get("vodfleet_storage_put_bytes_total"); v < uploaded+float64(fi.Size()) {
		t.Errorf("storage_put_bytes_total = %v, want >= agent uploads %v + source %d", v, uploaded, fi.Size())
	}
	if v := get("vodfleet_storage_publishes_total"); v < 3 {
		t.Errorf("storage_publishes_total = %v, want one per output task", v)
	}
	if v := get("vodfleet_storage_get_bytes_total", `protocol="http"`); v <= 0 {
		t.Errorf("storage_get_bytes_total{http} = %v after an edge miss, want > 0", v)
	}
	if v := get("vodfleet_storage_integrity_failures_total"); v != 0 {
		t.Errorf("integrity failures = %v", v)
	}
	// Edge.
	if v := get("vodfleet_edge_cache_misses_total"); v < 1 {
		t.Errorf("edge misses = %v, want >= 1", v)
	}

	// Storage and the edge serve their own metrics too.
	if _, ok := sum(scrape(t, "http://"+c.Storage.HTTPAddr+"/metrics"), "vodfleet_storage_bytes", `area="assets"`); !ok {
		t.Error("storage HTTP listener serves no vodfleet_storage_bytes")
	}
	if _, ok := sum(scrape(t, c.EdgeURL()+"/metrics"), "vodfleet_edge_cache_misses_total"); !ok {
		t.Error("edge serves no vodfleet_edge_cache_misses_total")
	}

	// A file that is not media: ffprobe rejects it, once (not retried).
	bad := filepath.Join(t.TempDir(), "notes.mp4")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not a video\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := waitJob(t, ctx, jobs, submitFile(t, ctx, jobs, st, bad).GetId()); e.GetJob().GetState() != v1.JobState_JOB_STATE_FAILED {
		t.Fatalf("non-media job ended %s", e.GetJob().GetState())
	}
	m = scrape(t, "http://"+c.Metrics.Addr+"/metrics")
	if v := get("vodfleet_agent_ffmpeg_failures_total", `cause="invalid_input"`); v != 1 {
		t.Errorf("ffmpeg_failures{invalid_input} = %v, want 1", v)
	}
	if v := get("vodfleet_agent_task_duration_seconds_count", `kind="probe"`, `outcome="failed"`); v != 1 {
		t.Errorf("agent probe failures timed = %v, want 1", v)
	}
	if v := get("vodfleet_coordinator_task_duration_seconds_count", `kind="probe"`, `outcome="failed"`); v != 1 {
		t.Errorf("coordinator probe failures timed = %v, want 1", v)
	}
	if v := get("vodfleet_coordinator_jobs_finished_total", `state="failed"`); v != 1 {
		t.Errorf("jobs_finished{failed} = %v, want 1", v)
	}
	if v, _ := sum(m, "vodfleet_coordinator_task_retries_total"); v != 0 {
		t.Errorf("task retries = %v; a permanent failure is not retried", v)
	}
}
