package main

import (
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// TestStatusShowsWhyAJobWaits: a job requiring a label no agent has shows
// the reason in `vodfleet status`, text and JSON.
func TestStatusShowsWhyAJobWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster; skipped with -short")
	}
	c := startCluster(t)
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 1})
	code, out, stderr := cli(t, c, "submit", "--json", "--require", "gpu=nvidia", clip)
	if code != 0 {
		t.Fatalf("submit exit %d: %s %s", code, out, stderr)
	}
	id := decodeJob(t, out).JobID
	const reason = "no connected agent can run task probe: it needs gpu=nvidia; connected agents: agent-1 lacks gpu=nvidia"
	waitFor(t, "the waiting reason", func() bool {
		_, out, _ := cli(t, c, "status", "--json", id)
		j := decodeJob(t, out)
		return j.State == "queued" && strings.HasPrefix(j.Error, reason)
	})
	if _, out, _ := cli(t, c, "status", id); !strings.Contains(out, "error:    "+reason) {
		t.Errorf("status text lacks the reason:\n%s", out)
	}
}
