package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Every scenario runs storage, an edge, 3 coordinators and 2 agents as
// processes of the real binary on one embedded etcd (session TTL 2 s,
// leases 6 s), injects a fault while encodes run, and asserts that each
// job ends as it must, no task is lost and nothing is published twice.

func chaosCluster(t *testing.T) *Cluster {
	if testing.Short() {
		t.Skip("multi-process chaos test; skipped with -short")
	}
	return New(t, Options{Coordinators: 3, Agents: 2})
}

// clip is a source whose encodes take a few seconds: 720p, so three
// renditions plus audio per job.
func clip(t *testing.T) string {
	return testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "1280x720", Seconds: 12})
}

// encoding waits until some encode task of job runs with progress.
func encoding(c *Cluster, job string) *v1.Task {
	return c.WaitTask(job, time.Minute, "encoding", func(tk *v1.Task) bool {
		return tk.GetState() == v1.TaskState_TASK_STATE_RUNNING && tk.GetProgress() > 0 &&
			tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO
	})
}

func TestChaosKillLeaderDuringEncodes(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	a, b := c.Submit(src, nil), c.Submit(src, nil)
	encoding(c, a)
	old := c.WaitLeader(time.Second)
	c.Coordinators[old].Kill()
	killed := time.Now()
	next := c.WaitNewLeader(old, 30*time.Second)
	t.Logf("leader %d killed; %d took over after %s", old, next, time.Since(killed).Round(10*time.Millisecond))
	jobs := c.WaitDone(3*time.Minute, a, b)
	c.CheckSucceeded(jobs)
	if m := MaxAttempt(jobs); m != 1 {
		t.Errorf("a leader change restarted encodes: max attempt %d", m)
	}
	for _, ag := range c.Agent {
		if !strings.Contains(ag.Log(), "reattached") {
			t.Errorf("%s never re-attached", ag.Name)
		}
	}
}

func TestChaosGracefulLeaderStop(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	a, b := c.Submit(src, nil), c.Submit(src, nil)
	encoding(c, a)
	old := c.WaitLeader(time.Second)
	stopped := time.Now()
	c.Coordinators[old].Stop(15 * time.Second)
	next := c.WaitNewLeader(old, 10*time.Second)
	t.Logf("leader %d stopped; %d took over after %s", old, next, time.Since(stopped).Round(10*time.Millisecond))
	jobs := c.WaitDone(3*time.Minute, a, b)
	c.CheckSucceeded(jobs)
	if m := MaxAttempt(jobs); m != 1 {
		t.Errorf("a graceful leader change restarted encodes: max attempt %d", m)
	}
}

func TestChaosKillAgentMidEncode(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	a := c.Submit(src, nil)
	tk := encoding(c, a)
	victim := c.AgentByID(tk.GetAgentId())
	victim.Kill()
	jobs := c.WaitDone(3*time.Minute, a)
	c.CheckSucceeded(jobs)
	r := jobs[a]
	for _, x := range r.GetTasks() {
		if x.GetName() == tk.GetName() && (x.GetAttempt() < 2 || x.GetAgentId() == tk.GetAgentId()) {
			t.Errorf("orphaned task %s finished as attempt %d on %s", x.GetName(), x.GetAttempt(), x.GetAgentId())
		}
	}
}

func TestChaosPausedAgentLateCompletionIsRefused(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	a := c.Submit(src, nil)
	tk := encoding(c, a)
	victim := c.AgentByID(tk.GetAgentId())
	victim.Pause()
	// Wait until the task was taken away and finished elsewhere.
	c.WaitTask(a, 2*time.Minute, "re-run elsewhere", func(x *v1.Task) bool {
		return x.GetName() == tk.GetName() && x.GetAttempt() >= 2 && x.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED
	})
	victim.Resume()
	jobs := c.WaitDone(3*time.Minute, a)
	c.CheckSucceeded(jobs)
	stale := "staging/" + tk.GetId() + "/1/"
	for to, froms := range c.Publishes() {
		for _, f := range froms {
			if f == stale {
				t.Errorf("the paused agent's attempt was published to %s", to)
			}
		}
	}
	// After SIGCONT the paused agent learns its lease is gone: either the
	// leader cancels the task or refuses its late report.
	victim.WaitLog("task cancelled by leader", 30*time.Second)
}

func TestChaosRestartEverything(t *testing.T) {
	c := chaosCluster(t)
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "640x360", Seconds: 4})
	done := c.Submit(src, nil)
	c.WaitDone(2*time.Minute, done)
	// Agents away: the next jobs stay queued while everything restarts.
	for _, ag := range c.Agent {
		ag.Stop(30 * time.Second)
	}
	queued := []string{c.Submit(src, nil), c.Submit(src, nil)}
	for _, co := range c.Coordinators {
		co.Kill()
	}
	c.Storage.Kill()
	c.Edge.Kill()
	c.Storage.Restart()
	c.Edge.Restart()
	for _, co := range c.Coordinators {
		co.Restart()
	}
	c.WaitLeader(30 * time.Second)
	for _, ag := range c.Agent {
		ag.Restart()
	}
	jobs := c.WaitDone(3*time.Minute, append(queued, done)...)
	c.CheckSucceeded(jobs)
	resp, err := http.Get(jobs[done].GetJob().GetHlsUrl())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("asset published before the restart: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestChaosPoisonedSources(t *testing.T) {
	c := chaosCluster(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mp4")
	if err := os.WriteFile(junk, []byte(strings.Repeat("garbage ", 4000)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A flaky origin: every attempt fails in a retryable way.
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer flaky.Close()
	good := c.Submit(testmedia.Make(t, dir, testmedia.Clip{Size: "640x360", Seconds: 4}), nil)
	bad := c.Submit(junk, nil)
	unavailable := c.Submit("", &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: flaky.URL + "/a.mp4"}}})
	jobs := c.WaitDone(3*time.Minute, good, bad, unavailable)
	c.CheckSucceeded(map[string]*v1.GetJobResponse{good: jobs[good]})
	if j := jobs[bad].GetJob(); j.GetState() != v1.JobState_JOB_STATE_FAILED || !strings.Contains(j.GetError(), "invalid data") || MaxAttempt(map[string]*v1.GetJobResponse{bad: jobs[bad]}) != 1 {
		t.Errorf("junk source: %s %q after %d attempts", j.GetState(), j.GetError(), MaxAttempt(map[string]*v1.GetJobResponse{bad: jobs[bad]}))
	}
	if j := jobs[unavailable].GetJob(); j.GetState() != v1.JobState_JOB_STATE_FAILED || !strings.Contains(j.GetError(), "after 3 attempts") {
		t.Errorf("unavailable source: %s %q", j.GetState(), j.GetError())
	}
	// The dead-letter view lists both.
	var failed []*v1.Job
	_ = c.Jobs(func(j v1.JobServiceClient) error {
		r, err := j.ListJobs(context.Background(), &v1.ListJobsRequest{State: v1.JobState_JOB_STATE_FAILED})
		failed = r.GetJobs()
		return err
	})
	if len(failed) != 2 {
		t.Errorf("failed jobs listed: %d, want 2", len(failed))
	}
}

func TestChaosCancelDuringEncode(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	a := c.Submit(src, nil)
	encoding(c, a)
	if err := c.Jobs(func(j v1.JobServiceClient) error {
		_, err := j.CancelJob(context.Background(), &v1.CancelJobRequest{JobId: a})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cancelled := time.Now()
	for ffmpegRunning(a) {
		if time.Since(cancelled) > 2*time.Second {
			t.Fatalf("ffmpeg of job %s still running 2 s after cancel", a)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("ffmpeg gone %s after cancel", time.Since(cancelled).Round(time.Millisecond))
	jobs := c.WaitDone(30*time.Second, a)
	if s := jobs[a].GetJob().GetState(); s != v1.JobState_JOB_STATE_CANCELLED {
		t.Fatalf("cancelled job ended %s", s)
	}
	// The slots are free again: a new job runs to the end.
	b := c.Submit(testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "640x360", Seconds: 3}), nil)
	c.CheckSucceeded(c.WaitDone(2*time.Minute, b))
}

// ffmpegRunning reports whether an ffmpeg process works for job (its
// argv holds the task scratch directory, named after the job).
func ffmpegRunning(job string) bool {
	out, _ := exec.Command("pgrep", "-f", "ffmpeg.*"+job).Output()
	return len(strings.TrimSpace(string(out))) > 0
}

func TestAgentDrainHandsBackAfterTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test; skipped with -short")
	}
	c := New(t, Options{Coordinators: 1, Agents: 2, DrainTimeout: time.Second})
	a := c.Submit(clip(t), nil)
	tk := encoding(c, a)
	victim := c.AgentByID(tk.GetAgentId())
	start := time.Now()
	victim.Stop(20 * time.Second) // SIGTERM: drain, hand back after 1 s, exit 0
	t.Logf("%s drained and exited in %s", victim.Name, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(victim.Log(), "lease handed back") {
		t.Errorf("%s did not hand its lease back:\n%s", victim.Name, victim.Log())
	}
	jobs := c.WaitDone(3*time.Minute, a)
	c.CheckSucceeded(jobs)
	for _, x := range jobs[a].GetTasks() {
		if x.GetAgentId() == tk.GetAgentId() && x.GetName() == tk.GetName() {
			t.Errorf("handed-back task %s finished on the drained agent", x.GetName())
		}
	}
}

func TestSchedulingHonoursLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test; skipped with -short")
	}
	c := New(t, Options{Coordinators: 1, Agents: 1})
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "640x360", Seconds: 3})
	gpu := c.Submit(src, &v1.SubmitJobRequest{AgentSelector: map[string]string{"gpu": "nvidia"}, Priority: v1.Priority_PRIORITY_HIGH})
	plain := c.Submit(src, nil)
	c.CheckSucceeded(c.WaitDone(2*time.Minute, plain))
	// No agent has the label: the high-priority job still waits.
	r, err := c.Get(gpu)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.GetJob().GetState(); s != v1.JobState_JOB_STATE_QUEUED {
		t.Fatalf("job needing a GPU agent is %s with no such agent", s)
	}
	c.AddAgent("gpu-agent", "--label", "gpu=nvidia")
	jobs := c.WaitDone(2*time.Minute, gpu)
	c.CheckSucceeded(jobs)
	for _, x := range jobs[gpu].GetTasks() {
		if x.GetAgentId() != "gpu-agent" {
			t.Errorf("task %s ran on %s, not the labelled agent", x.GetName(), x.GetAgentId())
		}
	}
}

func TestChaosKillStorageMidUpload(t *testing.T) {
	c := chaosCluster(t)
	small := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "640x360", Seconds: 4})
	first := c.Submit(small, nil)
	before := c.WaitDone(2*time.Minute, first)
	c.CheckSucceeded(before)
	sums := assetSums(t, c, first)

	a := c.Submit(clip(t), &v1.SubmitJobRequest{MaxAttempts: 6})
	c.WaitTask(a, time.Minute, "finishing an encode", func(tk *v1.Task) bool {
		return tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO && tk.GetProgress() >= 0.9
	})
	c.Storage.Kill() // uploads and publishes in flight fail
	time.Sleep(500 * time.Millisecond)
	c.Storage.Restart()
	jobs := c.WaitDone(3*time.Minute, a)
	c.CheckSucceeded(jobs)
	t.Logf("job finished with max attempt %d after the storage crash", MaxAttempt(jobs))
	// Nothing partial is visible and the earlier asset is intact.
	after := assetSums(t, c, first)
	for p, s := range sums {
		if after[p] != s {
			t.Errorf("%s changed across the crash: %s -> %s", p, s, after[p])
		}
	}
	assetSums(t, c, a)
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", jobs[a].GetJob().GetHlsUrl(), "-map", "0", "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("asset published after the crash does not play cleanly: %v %s", err, out)
	}
}

// assetSums fetches every object of an asset from the storage HTTP origin
// and checks its bytes against the ETag (the SHA-256 recorded at upload).
func assetSums(t *testing.T, c *Cluster, asset string) map[string]string {
	t.Helper()
	objs, err := c.store.List(context.Background(), "assets/"+asset+"/")
	if err != nil || len(objs) == 0 {
		t.Fatalf("list asset %s: %d objects, %v", asset, len(objs), err)
	}
	sums := map[string]string{}
	for _, o := range objs {
		resp, err := http.Get("http://" + c.StorageHTTP + "/o/" + o.GetPath())
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, _ := io.Copy(h, resp.Body)
		resp.Body.Close()
		got := hex.EncodeToString(h.Sum(nil))
		if resp.StatusCode != 200 || n != o.GetSize() || got != o.GetSha256() || resp.Header.Get("ETag") != `"`+got+`"` {
			t.Errorf("%s: status %d, %d of %d bytes, sha256 %s, recorded %s", o.GetPath(), resp.StatusCode, n, o.GetSize(), got, o.GetSha256())
		}
		sums[o.GetPath()] = got
	}
	return sums
}

func TestEdgeServesCachedObjectsWhileStorageIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test; skipped with -short")
	}
	c := New(t, Options{Coordinators: 1, Agents: 1})
	a := c.Submit(testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "640x360", Seconds: 3}), nil)
	jobs := c.WaitDone(2*time.Minute, a)
	c.CheckSucceeded(jobs)
	master := jobs[a].GetJob().GetHlsUrl()
	get := func(url string) (int, time.Duration) {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	if code, _ := get(master); code != 200 {
		t.Fatalf("master: %d", code)
	}
	c.Storage.Kill()
	time.Sleep(2500 * time.Millisecond) // past the playlist max-age: the cached copy is stale
	if code, _ := get(master); code != 200 {
		t.Errorf("cached playlist with storage down: %d, want 200 (stale-if-error)", code)
	}
	code, took := get(strings.TrimSuffix(master, "master.m3u8") + "v360p/seg_00001.m4s")
	if code != http.StatusBadGateway && code != http.StatusGatewayTimeout {
		t.Errorf("uncached segment with storage down: %d, want 502/504", code)
	}
	if took > 5*time.Second {
		t.Errorf("miss with storage down took %s", took)
	}
	t.Logf("miss with storage down answered %d in %s", code, took.Round(time.Millisecond))
}
