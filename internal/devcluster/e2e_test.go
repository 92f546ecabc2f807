package devcluster

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// startCluster runs a dev cluster on free loopback ports in a temp dir.
func startCluster(t *testing.T) (*Cluster, v1.JobServiceClient, *storage.Client) {
	t.Helper()
	cfg := LoopbackConfig(t.TempDir())
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jc := dialT(t, c, c.Coordinator.Addr)
	sc := dialT(t, c, c.Storage.GRPCAddr)
	return c, v1.NewJobServiceClient(jc), storage.NewClient(sc)
}

// dialT connects to one of c's listeners as the admin (mTLS cluster: the
// dev CA and the admin token).
func dialT(t *testing.T, c *Cluster, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := c.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// submitFile uploads a local file as a source and submits a job for it.
func submitFile(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, st *storage.Client, local string) *v1.Job {
	t.Helper()
	path := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/" + filepath.Base(local)
	_, err := st.PutFile(ctx, path, local, "")
	if status.Code(err) == codes.Unavailable {
		// Unavailable is gRPC's retryable code (a reset connection).
		t.Logf("upload: %v; retrying once", err)
		_, err = st.PutFile(ctx, path, local, "")
	}
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return resp.GetJob()
}

// waitJob follows WatchJob until the job ends and returns the last update.
func waitJob(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, id string) *v1.WatchJobResponse {
	t.Helper()
	stream, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	var last *v1.WatchJobResponse
	sawProgress := false
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("watch %s: %v (last: %v)", id, err, last)
		}
		last = m
		for _, tk := range m.GetTasks() {
			if tk.GetState() == v1.TaskState_TASK_STATE_RUNNING && tk.GetProgress() > 0 && tk.GetProgress() < 1 {
				sawProgress = true
			}
		}
		switch m.GetJob().GetState() {
		case v1.JobState_JOB_STATE_SUCCEEDED, v1.JobState_JOB_STATE_FAILED, v1.JobState_JOB_STATE_CANCELLED:
			t.Logf("job %s ended %s (saw partial progress: %v)", id, m.GetJob().GetState(), sawProgress)
			return m
		}
	}
}

// streamDurations decodes every stream of url and returns each stream's
// media type and decoded duration in seconds (first frame to the end of
// the last).
func streamDurations(t *testing.T, url string) (types []string, durations []float64) {
	t.Helper()
	frames, kinds := decodeFrames(t, url, "0")
	first, end := map[int]float64{}, map[int]float64{}
	for _, f := range frames {
		if v, ok := first[f.stream]; !ok || f.pts < v {
			first[f.stream] = f.pts
		}
		end[f.stream] = max(end[f.stream], f.pts+f.dur)
	}
	for i := range kinds {
		types = append(types, kinds[i])
		durations = append(durations, end[i]-first[i])
	}
	return types, durations
}

func TestEndToEndPlaysHLSAndDASHThroughEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	_, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "854x480", Seconds: 6})
	_, srcDur := streamDurations(t, clip)
	bad := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(bad, bytes.Repeat([]byte("this is not a video file\n"), 200), 0o644); err != nil {
		t.Fatal(err)
	}

	// A URL source, read by the agents over http from a loopback server.
	small := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	web := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer web.Close()

	good := submitFile(t, ctx, jobs, st, clip)
	broken := submitFile(t, ctx, jobs, st, bad) // runs beside the good job
	remote, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{
		Location: &v1.Source_Url{Url: web.URL + "/" + filepath.Base(small)}}})
	if err != nil {
		t.Fatalf("submit url: %v", err)
	}

	start := time.Now()
	b := waitJob(t, ctx, jobs, broken.GetId())
	if b.GetJob().GetState() != v1.JobState_JOB_STATE_FAILED {
		t.Fatalf("non-media job ended %s, want FAILED", b.GetJob().GetState())
	}
	if msg := strings.ToLower(b.GetJob().GetError()); !strings.Contains(msg, "invalid data") && !strings.Contains(msg, "no video") {
		t.Errorf("non-media job error %q is not a readable reason", b.GetJob().GetError())
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("non-media job took %s to fail", took)
	}
	for _, tk := range b.GetTasks() {
		if tk.GetAttempt() > 1 {
			t.Errorf("permanent failure was retried: task %s attempt %d", tk.GetName(), tk.GetAttempt())
		}
	}

	r := waitJob(t, ctx, jobs, remote.GetJob().GetId())
	if r.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("url job ended %s: %s", r.GetJob().GetState(), r.GetJob().GetError())
	}
	if _, durs := streamDurations(t, r.GetJob().GetHlsUrl()); len(durs) != 2 || math.Abs(durs[0]-3) > 0.2 {
		t.Errorf("url job plays back as %v, want one 3 s video and audio", durs)
	}

	g := waitJob(t, ctx, jobs, good.GetId())
	if g.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", g.GetJob().GetState(), g.GetJob().GetError())
	}
	hls, dash := g.GetJob().GetHlsUrl(), g.GetJob().GetDashUrl()
	if hls == "" || dash == "" {
		t.Fatalf("no playback URLs: %v", g.GetJob())
	}
	var renditions int
	for _, tk := range g.GetTasks() {
		if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
			renditions++
		}
	}
	if renditions != 2 { // 480p source: 480p and 360p, never 720p or 1080p
		t.Fatalf("encoded %d renditions, want 2 (480p, 360p)", renditions)
	}
	want := srcDur[0]
	for _, url := range []string{hls, dash} {
		types, durs := streamDurations(t, url)
		var video, audio int
		for i, ty := range types {
			switch ty {
			case "video":
				video++
			case "audio":
				audio++
			}
			if math.Abs(durs[i]-want) > 0.2 {
				t.Errorf("%s stream %d (%s) decodes to %.3fs, source %.3fs", url, i, ty, durs[i], want)
			}
		}
		if video != renditions || audio < 1 {
			t.Errorf("%s: %d video and %d audio streams, want %d video and audio", url, video, audio, renditions)
		}
		t.Logf("%s: %d video, %d audio streams, durations %v (source %.3fs)", url, video, audio, durs, want)
	}
}
