package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/node"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/storage"
)

// TestClusterCommand runs `vodfleet cluster` against a dev cluster with two
// agents and a second coordinator: the leader lists both agents with their
// slots, the follower names the leader.
func TestClusterCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster; skipped with -short")
	}
	cfg := devcluster.LoopbackConfig(t.TempDir())
	cfg.Agents, cfg.AgentSlots = 2, 3
	c, err := devcluster.Start(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitFor(t, "the dev coordinator to lead", c.Coordinator.C.IsLeader)
	fsec, err := security.New(c.PKI.Config(security.RoleCoordinator), true, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	follower, err := node.StartCoordinator(coordinator.Config{PlaybackBaseURL: c.EdgeURL()}, fsec,
		[]storage.Node{{ID: storage.DefaultConfig().NodeID, Address: c.Storage.GRPCAddr}},
		[]string{c.Etcd.Endpoint()}, "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = follower.Close() })

	var info clusterOut
	waitFor(t, "both agents and the follower to show up", func() bool {
		code, out, _ := cli(t, c, "cluster", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &info) != nil {
			return false
		}
		return len(info.Agents) == 2 && len(info.Followers) == 1
	})
	if !info.IsLeader || info.Leader != c.Coordinator.Addr || info.Followers[0] != follower.Addr {
		t.Errorf("json: leader %q (is_leader %v) followers %v; want %s then %s", info.Leader, info.IsLeader, info.Followers, c.Coordinator.Addr, follower.Addr)
	}
	for i, a := range info.Agents {
		if want := []string{"agent-1", "agent-2"}[i]; a.ID != want || a.Slots != 3 || a.Busy != 0 || a.State != "connected" {
			t.Errorf("json agent %d = %+v, want %s with 3 free slots, connected", i, a, want)
		}
		if a.Labels["encoder.libx264"] != "true" {
			t.Errorf("agent %s labels %v lack the detected encoder.libx264", a.ID, a.Labels)
		}
	}
	if q, ok := info.Queue["normal"]; !ok || q != 0 {
		t.Errorf("json queue %v, want normal 0", info.Queue)
	}

	code, out, stderr := cli(t, c, "cluster")
	if code != 0 {
		t.Fatalf("cluster exit %d: %s", code, stderr)
	}
	t.Logf("vodfleet cluster:\n%s", out)
	for _, re := range []string{
		`(?m)^leader +` + regexp.QuoteMeta(c.Coordinator.Addr) + `$`,
		`(?m)^followers +` + regexp.QuoteMeta(follower.Addr) + `$`,
		`(?m)^queue +high 0 +normal 0 +low 0$`,
		`(?m)^leases +0 active; slots 0/6 busy on 2 agents$`,
		`(?m)^agent-1 +connected +0/3 +- +.*libx264`,
		`(?m)^agent-2 +connected +0/3 +- +.*libx264`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("cluster output does not match %s:\n%s", re, out)
		}
	}

	// The follower answers what it knows and names the leader.
	var fo clusterOut
	var fout bytes.Buffer
	if code := run(append([]string{"cluster", "--json", "--coordinator", follower.Addr}, secArgs(c)...), &fout, &fout); code != 0 {
		t.Fatalf("cluster on follower exit %d: %s", code, fout.String())
	}
	if err := json.Unmarshal([]byte(fout.String()), &fo); err != nil {
		t.Fatal(err)
	}
	if fo.IsLeader || fo.Leader != c.Coordinator.Addr || fo.AnsweredBy != follower.Addr || len(fo.Agents) != 0 {
		t.Errorf("follower answered %+v; want is_leader false, leader %s, no agents", fo, c.Coordinator.Addr)
	}
	var text bytes.Buffer
	run(append([]string{"cluster", "--coordinator", follower.Addr}, secArgs(c)...), &text, &text)
	if !strings.Contains(text.String(), "is a follower") || !strings.Contains(text.String(), "--coordinator "+c.Coordinator.Addr) {
		t.Errorf("follower table does not point at the leader:\n%s", text.String())
	}
}
