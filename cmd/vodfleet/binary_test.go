package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/cluster"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/security"
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
	coord, edgeAddr, metricsAddr, dashAddr, data := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t), t.TempDir()
	p := cluster.StartProc(t, "dev", "dev", "--data", data, "--agents", "1",
		"--listen", coord, "--http", edgeAddr, "--storage-grpc", cluster.FreeAddr(t),
		"--storage-http", cluster.FreeAddr(t), "--etcd-listen", cluster.FreeAddr(t), "--metrics-listen", metricsAddr,
		"--dashboard", dashAddr)
	waitFor(t, "dev cluster ready", func() bool {
		return strings.Contains(p.Log(), "dev cluster ready") && strings.Contains(p.Log(), "web dashboard")
	})
	logs := p.Log()
	pki := filepath.Join(data, "pki")
	for _, want := range []string{"coordinator=" + coord, "edge=http://" + edgeAddr, "storage_grpc=", "storage_http=http://",
		"all_roles=http://" + metricsAddr + "/metrics", "web dashboard: url=http://" + dashAddr + "/",
		"export VODFLEET_TLS_CA=" + filepath.Join(pki, "ca.pem"), "VODFLEET_TOKEN=$(cat " + filepath.Join(pki, "admin.token") + ")",
		"Web dashboard: http://" + dashAddr + "/ — sign in with any user name and the admin token"} {
		if !strings.Contains(logs, want) {
			t.Errorf("dev log lacks %q:\n%s", want, logs)
		}
	}
	tok, err := os.ReadFile(filepath.Join(pki, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs, strings.TrimSpace(string(tok))) {
		t.Error("dev printed the admin token itself")
	}
	// dev runs on mTLS: a plaintext client is refused, the CA with the
	// admin token (or the admin certificate) gets in.
	if code, _, _ := runBin(t, "jobs", "--coordinator", coord, "--insecure"); code == 0 {
		t.Fatal("plaintext client accepted by the dev cluster")
	}
	if code, _, stderr := runBin(t, "jobs", "--coordinator", coord, "--tls-ca", filepath.Join(pki, "ca.pem")); code == 0 || !strings.Contains(stderr, "Unauthenticated") {
		t.Fatalf("client without credentials: exit %d %s", code, stderr)
	}
	if code, out, stderr := runBin(t, "jobs", "--coordinator", coord, "--tls-ca", filepath.Join(pki, "ca.pem"), "--token", strings.TrimSpace(string(tok))); code != 0 || !strings.Contains(out, "JOB") {
		t.Fatalf("jobs against dev with the admin token: exit %d %s %s", code, out, stderr)
	}
	if code, out, stderr := runBin(t, "jobs", "--coordinator", coord, "--tls-ca", filepath.Join(pki, "ca.pem"),
		"--tls-cert", filepath.Join(pki, "admin.pem"), "--tls-key", filepath.Join(pki, "admin-key.pem")); code != 0 || !strings.Contains(out, "JOB") {
		t.Fatalf("jobs against dev with the admin certificate: exit %d %s %s", code, out, stderr)
	}
	// The merged endpoint has every role; the election may still be running.
	waitFor(t, "dev metrics to show the leader and the agent", func() bool {
		body := get(t, "http://"+metricsAddr+"/metrics")
		return strings.Contains(body, "vodfleet_coordinator_leader 1") &&
			strings.Contains(body, `vodfleet_agent_slots{agent="agent-1",state="free"} 2`) &&
			strings.Contains(body, `vodfleet_storage_bytes{area="assets"} 0`) &&
			strings.Contains(body, "vodfleet_edge_cache_hits_total 0")
	})
	// The dashboard's API takes the admin token as the Basic auth
	// password (the browser's prompt) and asks for it without.
	resp, err := http.Get("http://" + dashAddr + "/api/jobs")
	if err != nil {
		t.Fatalf("dashboard api: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="vodfleet"` {
		t.Errorf("dashboard /api/jobs without the token: %d %q, want 401 with the Basic challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+dashAddr+"/api/jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("me", strings.TrimSpace(string(tok)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("dashboard api: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"jobs"`) {
		t.Errorf("dashboard /api/jobs with the admin token: %d %s", resp.StatusCode, body)
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
	// Every role on mTLS, the storage HTTP origin too (--http-tls): the
	// edge presents its certificate to it.
	pki := cluster.NewPKI(t)
	with := func(r security.Role, args ...string) []string { return append(args, pki.Args(r)...) }
	st := cluster.StartProc(t, "storage", with(security.RoleStorage, "storage", "--data", t.TempDir(), "--grpc", stGRPC, "--http", stHTTP, "--http-tls")...)
	ed := cluster.StartProc(t, "edge", with(security.RoleEdge, "edge", "--storage", "https://"+stHTTP, "--listen", edgeAddr)...)
	m1, m2, ma := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t)
	co1 := cluster.StartProc(t, "coordinator-1", with(security.RoleCoordinator, "coordinator", "--etcd", etcd.Endpoint(), "--listen", c1,
		"--metrics-listen", m1, "--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")...)
	waitFor(t, "first coordinator to lead", func() bool { return strings.Contains(co1.Log(), "elected leader") })
	co2 := cluster.StartProc(t, "coordinator-2", with(security.RoleCoordinator, "coordinator", "--etcd", etcd.Endpoint(), "--listen", c2,
		"--metrics-listen", m2, "--storage", stGRPC, "--playback-url", "http://"+edgeAddr, "--prefix", "/roles-test")...)
	waitFor(t, "second coordinator to listen", func() bool { return strings.Contains(co2.Log(), "coordinator listening") })
	// The agent tries the follower first and must follow its redirect.
	ag := cluster.StartProc(t, "agent", with(security.RoleAgent, "agent", "--coordinator", c2+","+c1, "--id", "roles-agent",
		"--work-dir", t.TempDir(), "--metrics-listen", ma)...)
	waitFor(t, "agent to reach the leader", func() bool { return strings.Contains(ag.Log(), "session accepted") })
	if !strings.Contains(ag.Log(), "following leader") {
		t.Errorf("agent did not follow the follower's redirect:\n%s", ag.Log())
	}

	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 3})
	// Clients may talk to any coordinator: submit through the follower.
	code, out, stderr := runBin(t, append(append([]string{"submit", "--wait", "--json", "--coordinator", c2, "--storage", stGRPC}, pki.ClientArgs(t)...), clip)...)
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
	// The storage origin serves TLS and wants a client certificate, as a
	// Prometheus scrape job configured with one would present.
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.Security(t).ClientTLS()}}
	for _, c := range []struct{ url, want, not string }{
		{"http://" + m1 + "/metrics", "vodfleet_coordinator_leader 1", ""},
		{"http://" + m2 + "/metrics", "vodfleet_coordinator_leader 0", "vodfleet_coordinator_leases_active"},
		{"http://" + ma + "/metrics", `vodfleet_agent_slots{agent="roles-agent",state="free"} 2`, ""},
		{"http://" + ma + "/metrics", `vodfleet_agent_uploaded_bytes_total{agent="roles-agent"}`, ""},
		{"https://" + stHTTP + "/metrics", `vodfleet_storage_bytes{area="assets"}`, ""},
		{"http://" + edgeAddr + "/metrics", "vodfleet_edge_cache_misses_total 1", ""},
	} {
		body := getWith(t, tlsClient, c.url)
		if !strings.Contains(body, c.want) || (c.not != "" && strings.Contains(body, c.not)) {
			t.Errorf("%s: want %q, not %q:\n%s", c.url, c.want, c.not, body)
		}
	}
	// The Smooth Streaming URL the CLI prints is served by the edge
	// (after the metrics check, which counts the edge's misses so far).
	if !strings.HasSuffix(j.SmoothURL, "/v/"+j.AssetID+"/manifest.ism/Manifest") {
		t.Fatalf("smooth_url %q", j.SmoothURL)
	}
	if body := get(t, j.SmoothURL); !strings.Contains(body, "<SmoothStreamingMedia") {
		t.Fatalf("GET %s: %q", j.SmoothURL, body)
	}
	for _, p := range []*cluster.Proc{ag, co2, co1, ed, st} {
		p.Stop(15 * time.Second)
	}
}

// get returns the body of a 200 answer to GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	return getWith(t, http.DefaultClient, url)
}

// getWith returns the body of a 200 answer to GET url made with c.
func getWith(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
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

func TestBinaryRefusesToStartWithoutTransportSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	for _, args := range [][]string{
		{"coordinator", "--etcd", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"},
		{"storage", "--data", t.TempDir(), "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"},
		{"agent", "--coordinator", "127.0.0.1:1", "--id", "a", "--work-dir", t.TempDir()},
		{"edge", "--storage", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"},
		{"jobs", "--coordinator", "127.0.0.1:1"},
	} {
		code, _, stderr := runBin(t, args...)
		if code != 1 || !strings.Contains(stderr, "no transport security") || !strings.Contains(stderr, "--insecure") {
			t.Errorf("%s without TLS flags or --insecure: exit %d, stderr %q", args[0], code, stderr)
		}
	}
}

func TestBinaryDevInsecureWarns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	coord := cluster.FreeAddr(t)
	p := cluster.StartProc(t, "dev", "dev", "--insecure", "--data", t.TempDir(), "--agents", "0",
		"--listen", coord, "--http", cluster.FreeAddr(t), "--storage-grpc", cluster.FreeAddr(t),
		"--storage-http", cluster.FreeAddr(t), "--etcd-listen", cluster.FreeAddr(t))
	waitFor(t, "dev cluster ready", func() bool { return strings.Contains(p.Log(), "dev cluster ready") })
	if log := p.Log(); !strings.Contains(log, "INSECURE") || !strings.Contains(log, "VODFLEET_INSECURE=1") {
		t.Errorf("dev --insecure does not say so:\n%s", log)
	}
	if code, out, stderr := runBin(t, "jobs", "--coordinator", coord, "--insecure"); code != 0 || !strings.Contains(out, "JOB") {
		t.Fatalf("plaintext client against dev --insecure: exit %d %s %s", code, out, stderr)
	}
	p.Stop(15 * time.Second)
}
