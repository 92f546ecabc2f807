package dashboard_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/edge"
	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/node"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// chromiumPath is Debian's chromium, which the Makefile installs.
const chromiumPath = "/usr/bin/chromium"

// browserPrereqs returns the web directory and node, failing (not
// skipping) when anything the browser test needs is missing: `make test`
// installs chromium and node and builds the bundle first.
func browserPrereqs(t *testing.T) (webDir, nodeBin string) {
	t.Helper()
	webDir, err := filepath.Abs(filepath.Join("..", "..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "dist", "index.html")); err != nil {
		t.Fatalf("dashboard bundle missing (%v): run make web", err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core missing (%v): run make web", err)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s missing (%v): make test installs Debian's chromium", chromiumPath, err)
	}
	if nodeBin, err = exec.LookPath("node"); err != nil {
		t.Fatalf("node missing: make test installs it")
	}
	return webDir, nodeBin
}

func TestDashboardPlaysHLSDASHAndSmoothInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test encodes video; skipped with -short like the other end-to-end tests")
	}
	webDir, nodeBin := browserPrereqs(t)
	log := testmedia.Logger(t, hclog.Info)
	// The dev cluster on mTLS (the default): the dashboard takes the dev
	// admin token.
	cfg := devcluster.LoopbackConfig(t.TempDir())
	cfg.DashboardAddr = "127.0.0.1:0"
	c, err := devcluster.Start(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if c.PKI == nil || c.AdminToken == "" {
		t.Fatal("dev cluster runs without mTLS and the admin token")
	}

	// A second edge in front of the same storage that also proxies the
	// dashboard, as an operator would reach it.
	ecfg := edge.DefaultConfig()
	ecfg.Origin = "http://" + c.Storage.HTTPAddr
	ecfg.DashboardURL = c.Dashboard.URL()
	viaEdge, err := node.StartEdge(ecfg, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = viaEdge.Close() })

	// Without the token the API refuses, directly and through the edge,
	// with the challenge that makes a browser ask for it.
	for _, u := range []string{c.Dashboard.URL() + "api/jobs", "http://" + viaEdge.Addr + "/dashboard/api/jobs"} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("GET %s without a token: %d %q, want 401 with a challenge", u, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 4})
	job := encode(t, ctx, c, clip)

	args := []string{filepath.Join(webDir, "test", "play.mjs"),
		"--dashboard", c.Dashboard.URL(), "--job", job, "--via-edge", "http://" + viaEdge.Addr,
		"--chromium", chromiumPath, "--width", "320", "--timeout", "180000"}
	if shot := os.Getenv("VODFLEET_DASHBOARD_SCREENSHOT"); shot != "" {
		args = append(args, "--screenshot", shot)
	}
	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = webDir
	// The token goes by environment, not argv (visible in ps); the script
	// signs in with it as the Basic auth password.
	cmd.Env = append(os.Environ(), "VODFLEET_DASHBOARD_TOKEN="+c.AdminToken)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("browser checks failed: %v", err)
	}
	if !strings.Contains(string(out), "play: all checks passed") {
		t.Fatal("browser script ended without passing every check")
	}
}

// encode uploads clip, submits it and waits for the job to succeed.
func encode(t *testing.T, ctx context.Context, c *devcluster.Cluster, clip string) string {
	t.Helper()
	conn, err := c.Dial(c.Coordinator.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sconn, err := c.Dial(c.Storage.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close()
	path := "sources/dashboard/" + filepath.Base(clip)
	if _, err := storage.NewClient(sconn).PutFile(ctx, path, clip, ""); err != nil {
		t.Fatalf("upload: %v", err)
	}
	jobs := v1.NewJobServiceClient(conn)
	// Title and tag are what play.mjs finds the asset by on #/catalog.
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}},
		// 2 s segments: the 4 s clip has two, so players cross a boundary.
		SegmentSeconds: 2,
		Title:          "Browser harbour clip", Tags: []string{"browser-test"},
		Meta: map[string]string{"origin": "chromium"}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	id := resp.GetJob().GetId()
	stream, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("watch %s: %v", id, err)
		}
		switch s := m.GetJob().GetState(); s {
		case v1.JobState_JOB_STATE_SUCCEEDED:
			return id
		case v1.JobState_JOB_STATE_FAILED, v1.JobState_JOB_STATE_CANCELLED:
			t.Fatalf("job %s ended %s: %s", id, s, m.GetJob().GetError())
		}
	}
}
