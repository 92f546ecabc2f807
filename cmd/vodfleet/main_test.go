package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/edge"
	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// cli runs one vodfleet command line in-process against cluster c.
func cli(t *testing.T, c *devcluster.Cluster, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	full := append(append([]string{args[0], "--coordinator", c.Coordinator.Addr}, secArgs(c)...), args[1:]...)
	if args[0] == "submit" {
		full = append(append([]string{args[0], "--coordinator", c.Coordinator.Addr, "--storage", c.Storage.GRPCAddr}, secArgs(c)...), args[1:]...)
	}
	var out, errb bytes.Buffer
	code = run(full, &out, &errb)
	return code, out.String(), errb.String()
}

// secArgs are the client flags reaching c: its dev CA and admin token.
func secArgs(c *devcluster.Cluster) []string {
	cfg := c.ClientConfig()
	if cfg.Insecure {
		return []string{"--insecure"}
	}
	return []string{"--tls-ca", cfg.CAFile, "--token", cfg.Token}
}

func startCluster(t *testing.T) *devcluster.Cluster {
	t.Helper()
	cfg := devcluster.LoopbackConfig(t.TempDir())
	cfg.Agents = 1
	c, err := devcluster.Start(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func decodeJob(t *testing.T, s string) jobOut {
	t.Helper()
	var j jobOut
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		t.Fatalf("output is not one JSON job: %v\n%s", err, s)
	}
	return j
}

func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and encodes; skipped with -short")
	}
	c := startCluster(t)
	dir := t.TempDir()

	t.Run("missing file is an error before submitting", func(t *testing.T) {
		code, _, stderr := cli(t, c, "submit", "--wait", filepath.Join(dir, "nope.mp4"))
		if code == 0 || !strings.Contains(stderr, "no such file") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		_, out, _ := cli(t, c, "jobs", "--json")
		var jobs []jobOut
		if err := json.Unmarshal([]byte(out), &jobs); err != nil || len(jobs) != 0 {
			t.Fatalf("jobs after failed submit: %v %s", err, out)
		}
	})

	t.Run("submit --wait --json prints the playback URLs", func(t *testing.T) {
		clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
		code, out, stderr := cli(t, c, "submit", "--wait", "--json", clip)
		if code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, stderr)
		}
		j := decodeJob(t, out)
		if j.State != "succeeded" || j.Error != "" || j.JobID == "" ||
			!strings.HasSuffix(j.HLSURL, "/master.m3u8") || !strings.HasSuffix(j.DASHURL, "/manifest.mpd") {
			t.Fatalf("unexpected job %+v", j)
		}
		code, out, _ = cli(t, c, "status", "--json", j.JobID)
		if st := decodeJob(t, out); code != 0 || st.State != "succeeded" || len(st.Tasks) < 3 {
			t.Fatalf("status exit %d: %+v", code, st)
		}
		code, out, _ = cli(t, c, "status", j.JobID)
		if code != 0 || !strings.Contains(out, "video-180p") || !strings.Contains(out, "succeeded") {
			t.Fatalf("status text exit %d:\n%s", code, out)
		}
		if code, _, stderr = cli(t, c, "cancel", j.JobID); code == 0 || !strings.Contains(stderr, "FailedPrecondition") {
			t.Fatalf("cancel of a finished job: exit %d %s", code, stderr)
		}

		// Operators see the asset, can sign URLs for it and delete it.
		var out2, errb bytes.Buffer
		if code := run(append([]string{"assets", "--on-storage", "--json", "--storage", c.Storage.GRPCAddr}, secArgs(c)...), &out2, &errb); code != 0 {
			t.Fatalf("assets exit %d: %s", code, errb.String())
		}
		var assets []assetOut
		if err := json.Unmarshal(out2.Bytes(), &assets); err != nil || len(assets) != 1 || assets[0].AssetID != j.JobID || assets[0].Objects < 5 {
			t.Fatalf("assets: %v %s", err, out2.String())
		}
		keyFile := filepath.Join(dir, "key")
		if err := os.WriteFile(keyFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out2.Reset()
		if code := run([]string{"sign", "--key-file", keyFile, "--ttl", "1h", "--edge", "http://edge.example", j.JobID}, &out2, &errb); code != 0 {
			t.Fatalf("sign exit %d: %s", code, errb.String())
		}
		signed := strings.TrimSpace(out2.String())
		token, rest, ok := strings.Cut(strings.TrimPrefix(signed, "http://edge.example/t/"), "/")
		if !ok || rest != "v/"+j.JobID+"/master.m3u8" {
			t.Fatalf("signed URL %q", signed)
		}
		if err := edge.VerifyToken([]byte("0123456789abcdef0123456789abcdef"), token, "/v/"+j.JobID+"/v180p/media.m3u8", time.Now()); err != nil {
			t.Fatalf("signed token does not verify for the asset: %v", err)
		}
		if err := edge.VerifyToken([]byte("0123456789abcdef0123456789abcdef"), token, "/v/other/master.m3u8", time.Now()); err == nil {
			t.Fatal("signed token verifies for another asset")
		}
		out2.Reset()
		if code := run(append([]string{"delete", "--storage", c.Storage.GRPCAddr, "--coordinator", c.Coordinator.Addr}, append(secArgs(c), j.JobID)...), &out2, &errb); code != 0 {
			t.Fatalf("delete exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out2.String(), "deleted catalog record "+j.JobID) {
			t.Fatalf("delete output: %s", out2.String())
		}
		// The record is gone too: show is NotFound, the listing omits it,
		// and deleting again finds the asset nowhere.
		if code, out, stderr := cli(t, c, "asset", "show", j.JobID); code == 0 || !strings.Contains(stderr, "not found") {
			t.Fatalf("asset show after delete: exit %d %s%s", code, out, stderr)
		}
		if code, out, _ := cli(t, c, "assets"); code != 0 || strings.Contains(out, j.JobID) {
			t.Fatalf("assets after delete: exit %d\n%s", code, out)
		}
		if code := run(append([]string{"delete", "--storage", c.Storage.GRPCAddr, "--coordinator", c.Coordinator.Addr}, append(secArgs(c), j.JobID)...), &out2, &errb); code == 0 {
			t.Fatal("second delete succeeded")
		}
		resp, err := http.Get("http://" + c.Storage.HTTPAddr + "/o/assets/" + j.JobID + "/master.m3u8")
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("deleted asset still served: %v %v", resp, err)
		}
		resp.Body.Close()
	})

	t.Run("non-media source fails with a readable reason and exit 1", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.mov")
		if err := os.WriteFile(bad, []byte(strings.Repeat("not a movie ", 500)), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, _ := cli(t, c, "submit", "--wait", "--json", bad)
		j := decodeJob(t, out)
		if code != 1 || j.State != "failed" || !strings.Contains(strings.ToLower(j.Error), "invalid data") {
			t.Fatalf("exit %d, job %+v", code, j)
		}
		code, out, _ = cli(t, c, "jobs", "--state", "failed")
		if code != 0 || !strings.Contains(out, j.JobID) {
			t.Fatalf("jobs --state failed exit %d:\n%s", code, out)
		}
	})

	t.Run("cancel stops a running job", func(t *testing.T) {
		clip := testmedia.Make(t, dir, testmedia.Clip{Size: "640x360", Seconds: 20, NoAudio: true})
		code, out, stderr := cli(t, c, "submit", clip)
		if code != 0 {
			t.Fatalf("submit exit %d: %s", code, stderr)
		}
		id := strings.TrimSpace(out)
		if code, _, stderr = cli(t, c, "cancel", id); code != 0 {
			t.Fatalf("cancel exit %d: %s", code, stderr)
		}
		var st jobOut
		for i := 0; i < 100; i++ {
			_, out, _ = cli(t, c, "status", "--json", id)
			if st = decodeJob(t, out); st.State == "cancelled" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if st.State != "cancelled" || st.Error == "" {
			t.Fatalf("job after cancel: %+v", st)
		}
		for _, tk := range st.Tasks {
			if tk.State == "running" || tk.State == "pending" {
				t.Errorf("task %s still %s after cancel", tk.Name, tk.State)
			}
		}
		// The cancelled job can be retried and then completes.
		if code, _, stderr := cli(t, c, "retry", id); code != 0 {
			t.Fatalf("retry exit %d: %s", code, stderr)
		}
		for i := 0; i < 600 && st.State != "succeeded"; i++ {
			time.Sleep(100 * time.Millisecond)
			_, out, _ = cli(t, c, "status", "--json", id)
			st = decodeJob(t, out)
		}
		if st.State != "succeeded" {
			t.Fatalf("retried job: %+v", st)
		}
	})
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
