package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// TestDeliveryCLI drives submit --dest (a URL and a stored name),
// status's destination table and vodfleet transfer against a dev cluster
// whose agent may write file:// destinations under one root only.
func TestDeliveryCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and encodes; skipped with -short")
	}
	root := t.TempDir()
	cfg := devcluster.LoopbackConfig(t.TempDir())
	cfg.Agents = 1
	cfg.Agent.Destinations.FileRoot = root
	c, err := devcluster.Start(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	must := func(args ...string) string {
		t.Helper()
		code, out, stderr := cli(t, c, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 2})
	if code, _, stderr := cli(t, c, "submit", "--dest", "ftp://user:hunter2@ftp.example/x", clip); code == 0 ||
		!strings.Contains(stderr, "passwords are not allowed") || strings.Contains(stderr, "hunter2") {
		t.Fatalf("password in a destination: exit %d, %s", code, stderr)
	}
	must("dest", "add", "archive", "file://"+filepath.Join(root, "archive"))
	outside := "file://" + filepath.Join(dir, "outside")
	j := decodeJob(t, must("submit", "--wait", "--json", "--dest", "file://"+filepath.Join(root, "web"), "--dest", "archive", "--dest", outside, clip))
	if j.State != "succeeded" || len(j.Dests) != 3 {
		t.Fatalf("job %s with destinations %+v", j.State, j.Dests)
	}
	if d := j.Dests; d[0].State != "done" || d[1].State != "done" || d[1].Name != "archive" || d[2].State != "failed" ||
		!strings.Contains(d[2].Error, "outside the agent's destination root") {
		t.Fatalf("destinations %+v", d)
	}
	for _, sub := range []string{"web", "archive"} {
		if _, err := os.Stat(filepath.Join(root, sub, "master.m3u8")); err != nil {
			t.Errorf("%s: %v", sub, err)
		}
	}
	if out := must("status", j.JobID); !strings.Contains(out, "DESTINATION") || !strings.Contains(out, "archive") ||
		!strings.Contains(out, "outside the agent's destination root") {
		t.Fatalf("status: %s", out)
	}

	// Re-push: the removed playlist comes back, nothing else is sent.
	master := filepath.Join(root, "web", "master.m3u8")
	if err := os.Remove(master); err != nil {
		t.Fatal(err)
	}
	out := must("transfer", j.JobID, "--dest", "file://"+filepath.Join(root, "web"), "--wait", "--json")
	var tj struct {
		ID    string    `json:"job_id"`
		State string    `json:"state"`
		Dests []destOut `json:"destinations"`
	}
	if err := json.Unmarshal([]byte(out), &tj); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if tj.State != "succeeded" || len(tj.Dests) != 1 || tj.Dests[0].State != "done" {
		t.Fatalf("transfer: %s", out)
	}
	if _, err := os.Stat(master); err != nil {
		t.Errorf("master not pushed again: %v", err)
	}
	if out := must("status", tj.ID); !strings.Contains(out, "transfer: asset "+j.JobID) {
		t.Errorf("status of the transfer job: %s", out)
	}
	if code, _, _ := cli(t, c, "transfer", j.JobID, "--dest", outside, "--wait"); code != 1 {
		t.Errorf("a failed destination exits %d, want 1", code)
	}
}
