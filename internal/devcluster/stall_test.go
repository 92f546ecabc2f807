package devcluster

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"

	"github.com/hashicorp/go-hclog"
)

// stallingOrigin serves one file over HTTP. Its first GET sends half of
// the file (announcing all of it) and then holds the connection open
// without sending more; the first resume (a GET with Range) gets no answer
// at all, so the agent that tried gives the attempt up as stalled. Every
// later request is served in full, with Range support.
type stallingOrigin struct {
	data    []byte
	modTime time.Time
	done    chan struct{}

	mu                 sync.Mutex
	stalled, refused   bool
	gets, rangeRequest int
}

func (o *stallingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		o.mu.Lock()
		o.gets++
		first := !o.stalled && r.Header.Get("Range") == ""
		resume := o.stalled && !o.refused && r.Header.Get("Range") != ""
		if r.Header.Get("Range") != "" {
			o.rangeRequest++
		}
		o.stalled = o.stalled || first
		o.refused = o.refused || resume
		o.mu.Unlock()
		switch {
		case first:
			w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
			w.Header().Set("Last-Modified", o.modTime.UTC().Format(http.TimeFormat))
			w.Header().Set("Accept-Ranges", "bytes")
			_, _ = w.Write(o.data[:len(o.data)/2])
			w.(http.Flusher).Flush()
			o.hold(r)
			return
		case resume:
			o.hold(r)
			return
		}
	}
	http.ServeContent(w, r, "clip.mp4", o.modTime, bytes.NewReader(o.data))
}

// hold blocks until the client gives up or the test ends.
func (o *stallingOrigin) hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-o.done:
	}
}

// TestStalledSourceRetriedOnAnotherAgent: a source whose origin stops
// sending midway without closing the connection fails the attempt with
// "source download stalled" after the agent's stall timeout (and one
// resume that gets no data either), instead of hanging until the task
// timeout. The coordinator retries the task on the other agent, where the
// origin now answers, and the job succeeds.
func TestStalledSourceRetriedOnAnotherAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	origin := &stallingOrigin{data: data, modTime: time.Unix(1_700_000_000, 0), done: make(chan struct{})}
	web := httptest.NewServer(origin)
	t.Cleanup(func() { close(origin.done); web.Close() })

	cfg := LoopbackConfig(t.TempDir())
	// Short, but with room for a loaded machine: the ffmpeg watchdog
	// applies to every encode of the test too.
	cfg.Agent.StallTimeout = 5 * time.Second
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	waitAgents(t, ctx, c, cfg.Agents)
	job, err := submitURL(ctx, jobs, web.URL+"/clip.mp4", 0)
	if err != nil {
		t.Fatal(err)
	}

	// Follow the job, keeping every task error seen on the way (a retried
	// task's error is visible while it waits for its next attempt).
	stream, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: job.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	var last *v1.WatchJobResponse
	for last == nil || !isTerminalState(last.GetJob().GetState()) {
		if last, err = stream.Recv(); err != nil {
			t.Fatalf("watch: %v", err)
		}
		for _, tk := range last.GetTasks() {
			if e := tk.GetName() + ": " + tk.GetError(); tk.GetError() != "" && !slices.Contains(errs, e) {
				errs = append(errs, e)
			}
		}
	}
	if s := last.GetJob().GetState(); s != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s (task errors %q)", s, last.GetJob().GetError(), errs)
	}
	if !slices.Contains(errs, "probe: source download stalled: no data for 5s") {
		t.Errorf("task errors %q lack the probe's stall", errs)
	}
	var probe *v1.Task
	for _, tk := range last.GetTasks() {
		if tk.GetName() == "probe" {
			probe = tk
		}
	}
	failed := probe.GetFailedAgentIds()
	if probe.GetAttempt() != 2 || len(failed) != 1 || probe.GetAgentId() == failed[0] || probe.GetAgentId() == "" {
		t.Fatalf("probe: attempt %d on %q, failed on %v; want the retry on another agent",
			probe.GetAttempt(), probe.GetAgentId(), failed)
	}
	origin.mu.Lock()
	gets, ranges := origin.gets, origin.rangeRequest
	origin.mu.Unlock()
	if ranges == 0 {
		t.Errorf("the stalled agent never tried to resume (%d GETs)", gets)
	}
	t.Logf("probe failed on %s, succeeded on %s; origin saw %d GETs (%d ranged); task errors %q",
		failed[0], probe.GetAgentId(), gets, ranges, errs)
	if _, durs := streamDurations(t, last.GetJob().GetHlsUrl()); len(durs) != 2 || durs[0] < 2.8 || durs[0] > 3.2 {
		t.Errorf("job plays back as %v, want 3 s of video and audio", durs)
	}
}

// TestDiskFullFailsTaskAgentKeepsServing gives each agent a 2 MiB tmpfs
// as its work dir. A 6 MiB source cannot be downloaded: both attempts (one
// per agent) fail with "no space left on device writing ...", and the job
// fails with that reason. Then, with the disks filled by the test until
// only the source fits, the encodes cannot write their outputs and that
// job fails the same way. The agents delete what the failed attempts
// wrote, stay up, and encode the next job, once there is room, to the end.
func TestDiskFullFailsTaskAgentKeepsServing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs as root)")
	}
	src := t.TempDir()
	clip := testmedia.Make(t, src, testmedia.Clip{Size: "320x180", Seconds: 3})
	if err := os.WriteFile(filepath.Join(src, "big.mp4"), bytes.Repeat([]byte("not a disk's worth\n"), 6<<20/19), 0o644); err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(http.FileServer(http.Dir(src)))
	t.Cleanup(web.Close)

	cfg := LoopbackConfig(t.TempDir())
	for i := 1; i <= cfg.Agents; i++ {
		mountTmpfs(t, filepath.Join(cfg.DataDir, "agent-"+strconv.Itoa(i)), "2m")
	}
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // runs before the unmounts registered above
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	waitAgents(t, ctx, c, cfg.Agents)

	big, err := submitURL(ctx, jobs, web.URL+"/big.mp4", 2)
	if err != nil {
		t.Fatal(err)
	}
	end := waitJob(t, ctx, jobs, big.GetId())
	msg := end.GetJob().GetError()
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_FAILED || !strings.Contains(msg, "no space left on device writing ") {
		t.Fatalf("big job ended %s: %q; want FAILED for lack of space", end.GetJob().GetState(), msg)
	}
	t.Logf("big job error: %s", msg)
	var failedOn []string
	for _, tk := range end.GetTasks() {
		if tk.GetName() == "probe" {
			failedOn = tk.GetFailedAgentIds()
		}
	}
	if len(failedOn) != 2 {
		t.Errorf("probe failed on agents %v, want both (the retry avoids the first)", failedOn)
	}

	// Now the source fits but the encodes' outputs do not: each agent's
	// disk is filled to leave the clip and 32 KiB. ffmpeg's HLS muxer
	// says nothing when its writes fail; the agent must notice anyway.
	clipInfo, err := os.Stat(clip)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Link(clip, filepath.Join(src, "tight.mp4")); err != nil {
		t.Fatal(err)
	}
	var fillers []string
	for i := 1; i <= cfg.Agents; i++ {
		work := filepath.Join(cfg.DataDir, "agent-"+strconv.Itoa(i))
		fillers = append(fillers, fillDisk(t, work, clipInfo.Size()+32<<10))
	}
	tight, err := submitURL(ctx, jobs, web.URL+"/tight.mp4", 2)
	if err != nil {
		t.Fatal(err)
	}
	end = waitJob(t, ctx, jobs, tight.GetId())
	msg = end.GetJob().GetError()
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_FAILED || !strings.Contains(msg, "no space left on device writing ") ||
		!strings.Contains(msg, string(filepath.Separator)+"tasks"+string(filepath.Separator)) {
		t.Fatalf("tight job ended %s: %q; want FAILED for lack of space in a task's output dir", end.GetJob().GetState(), msg)
	}
	t.Logf("tight job error: %s", msg)
	for _, f := range fillers {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}

	small, err := submitURL(ctx, jobs, web.URL+"/"+filepath.Base(clip), 0)
	if err != nil {
		t.Fatal(err)
	}
	ok := waitJob(t, ctx, jobs, small.GetId())
	if ok.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("next job ended %s: %s", ok.GetJob().GetState(), ok.GetJob().GetError())
	}
	for _, tk := range ok.GetTasks() {
		if tk.GetAttempt() != 1 || !slices.Contains(failedOn, tk.GetAgentId()) {
			t.Errorf("next job's task %s: attempt %d on %q (error %q)", tk.GetName(), tk.GetAttempt(), tk.GetAgentId(), tk.GetError())
		}
	}
}

// fillDisk writes a file into dir that leaves about leave bytes free on
// its file system and returns its path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	size := int64(st.Bfree)*st.Bsize - leave
	if size <= 0 {
		t.Fatalf("%s has only %d bytes free", dir, int64(st.Bfree)*st.Bsize)
	}
	p := filepath.Join(dir, "filler")
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitAgents waits until the leader sees n agents, so the scheduler can
// choose between them from the first task on.
func waitAgents(t *testing.T, ctx context.Context, c *Cluster, n int) {
	t.Helper()
	cl := v1.NewClusterServiceClient(dialT(t, c, c.Coordinator.Addr))
	poll(t, ctx, func() bool {
		resp, err := cl.GetCluster(ctx, &v1.GetClusterRequest{})
		return err == nil && len(resp.GetAgents()) == n
	})
}

// mountTmpfs mounts a tmpfs of size at dir (created) and unmounts it when
// the test ends.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}
