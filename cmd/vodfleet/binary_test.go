package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/cluster"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// waitFor polls cond every 100 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(cluster.Binary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestBinaryDevLogsAddressesAndStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	coord, edgeAddr, metricsAddr, dashAddr := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t)
	p := cluster.StartProc(t, "dev", "dev", "--data", t.TempDir(), "--agents", "1",
		"--listen", coord, "--http", edgeAddr, "--storage-grpc", cluster.FreeAddr(t),
		"--storage-http", cluster.FreeAddr(t), "--etcd-listen", cluster.FreeAddr(t), "--metrics-listen", metricsAddr,
		"--dashboard", dashAddr)
	waitFor(t, "dev cluster ready", func() bool {
		return strings.Contains(p.Log(), "dev cluster ready") && strings.Contains(p.Log(), "web dashboard")
	})
	logs := p.Log()
	for _, want := range []string{"coordinator=" + coord, "edge=http://" + edgeAddr, "storage_grpc=", "storage_http=http://",
		"all_roles=http://" + metricsAddr + "/metrics", "web dashboard: url=http://" + dashAddr + "/"} {
		if !strings.Contains(logs, want) {
			t.Errorf("dev log lacks %q:\n%s", want, logs)
		}
	}
	if code, out, stderr := runBin(t, "jobs", "--coordinator", coord); code != 0 || !strings.Contains(out, "JOB") {
		t.Fatalf("jobs against dev: exit %d %s %s", code, out, stderr)
	}
	// The merged endpoint has every role; the election may still be running.
	waitFor(t, "dev metrics to show the leader and the agent", func() bool {
		body := get(t, "http://"+metricsAddr+"/metrics")
		return strings.Contains(body, "vodfleet_coordinator_leader 1") &&
			strings.Contains(body, `vodfleet_agent_slots{agent="agent-1",state="free"} 2`) &&
			strings.Contains(body, `vodfleet_storage_bytes{area="assets"} 0`) &&
			strings.Contains(body, "vodfleet_edge_cache_hits_total 0")
	})
	resp, err := http.Get("http://" + dashAddr + "/api/jobs")
	if err != nil {
		t.Fatalf("dashboard api: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"jobs"`) {
		t.Errorf("dashboard /api/jobs: %d %s", resp.StatusCode, body)
	}
	p.Stop(15 * time.Second)
	if !strings.Contains(p.Log(), "stopped") {
		t.Errorf("dev did not log a clean stop:\n%s", p.Log())
	}
}

func TestBinarySeparateRoleProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process cluster; skipped with -short")
	}
	etcd, err := etcdserver.Start(t.TempDir(), "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	stGRPC, stHTTP, edgeAddr, c1, c2 := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t)
	st := cluster.StartProc(t, "storage", "storage", "--data", t.TempDir(), "--grpc", stGRPC, "--http", stHTTP)
	ed := cluster.StartProc(t, "edge", "edge", "--storage", "http://"+stHTTP, "--listen", edgeAddr)
	m1, m2, ma := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t)
	co1 := cluster.StartProc(t, "coordinator-1", "coordinator", "--etcd", etcd.Endpoint(), "--listen", c1, "--metrics-listen", m1,
		"--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")
	waitFor(t, "first coordinator to lead", func() bool { return strings.Contains(co1.Log(), "elected leader") })
	co2 := cluster.StartProc(t, "coordinator-2", "coordinator", "--etcd", etcd.Endpoint(), "--listen", c2, "--metrics-listen", m2,
		"--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")
	waitFor(t, "second coordinator to listen", func() bool { return strings.Contains(co2.Log(), "coordinator listening") })
	// The agent tries the follower first and must follow its redirect.
	ag := cluster.StartProc(t, "agent", "agent", "--coordinator", c2+","+c1, "--id", "roles-agent", "--work-dir", t.TempDir(), "--metrics-listen", ma)
	waitFor(t, "agent to reach the leader", func() bool { return strings.Contains(ag.Log(), "session accepted") })
	if !strings.Contains(ag.Log(), "following leader") {
		t.Errorf("agent did not follow the follower's redirect:\n%s", ag.Log())
	}

	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 3})
	// Clients may talk to any coordinator: submit through the follower.
	code, out, stderr := runBin(t, "submit", "--wait", "--json", "--coordinator", c2, "--storage", stGRPC, clip)
	if code != 0 {
		t.Fatalf("submit exit %d: %s %s", code, out, stderr)
	}
	var j jobOut
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != "succeeded" {
		t.Fatalf("job %+v (%v)", j, err)
	}
	resp, err := http.Get(j.HLSURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "#EXTM3U") {
		t.Fatalf("GET %s: %d %q", j.HLSURL, resp.StatusCode, body)
	}
	// Each role's own metrics endpoint; only the leader exports its gauges.
	for _, c := range []struct{ url, want, not string }{
		{"http://" + m1 + "/metrics", "vodfleet_coordinator_leader 1", ""},
		{"http://" + m2 + "/metrics", "vodfleet_coordinator_leader 0", "vodfleet_coordinator_leases_active"},
		{"http://" + ma + "/metrics", `vodfleet_agent_slots{agent="roles-agent",state="free"} 2`, ""},
		{"http://" + ma + "/metrics", `vodfleet_agent_uploaded_bytes_total{agent="roles-agent"}`, ""},
		{"http://" + stHTTP + "/metrics", `vodfleet_storage_bytes{area="assets"}`, ""},
		{"http://" + edgeAddr + "/metrics", "vodfleet_edge_cache_misses_total 1", ""},
	} {
		body := get(t, c.url)
		if !strings.Contains(body, c.want) || (c.not != "" && strings.Contains(body, c.not)) {
			t.Errorf("%s: want %q, not %q:\n%s", c.url, c.want, c.not, body)
		}
	}
	for _, p := range []*cluster.Proc{ag, co2, co1, ed, st} {
		p.Stop(15 * time.Second)
	}
}

// get returns the body of a 200 answer to GET url.
func get(t *testing.T, url string) string {
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
	return string(body)
}
