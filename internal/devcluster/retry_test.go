package devcluster

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// TestRetryKeepsFinishedChunks cancels a chunked two-rendition job on a
// one-slot agent right after its first video task finished, retries it,
// and checks that every task finished before the cancel kept its attempt
// and lease (never ran again) and its published segments their content
// and write time, that the unfinished tasks ran, and that the result
// plays in full.
func TestRetryKeepsFinishedChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	cfg := LoopbackConfig(t.TempDir())
	cfg.Agents, cfg.AgentSlots = 1, 1
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	st := storage.NewClient(dialT(t, c, c.Storage.GRPCAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 6})
	_, srcDur := streamDurations(t, clip)
	job := submitEncode(t, ctx, jobs, st, clip, 2, &v1.EncodeOptions{ChunkSeconds: 2,
		Renditions: []*v1.RenditionRequest{{Name: "180p", Height: 180}, {Name: "90p", Height: 90}},
		Outputs:    &v1.Outputs{Thumbnails: protoBool(false)}})

	// Cancel as soon as one video task is finished and published.
	stream, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: job.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		for _, tk := range m.GetTasks() {
			if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO && tk.GetPublished() {
				done = true
			}
		}
	}
	if _, err := jobs.CancelJob(ctx, &v1.CancelJobRequest{JobId: job.GetId()}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	end := waitJob(t, ctx, jobs, job.GetId())
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_CANCELLED {
		t.Fatalf("job ended %s", end.GetJob().GetState())
	}
	finished := map[string]*v1.Task{}
	unfinished := map[string]bool{}
	for _, tk := range end.GetTasks() {
		if tk.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED {
			finished[tk.GetName()] = tk
		} else if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
			unfinished[tk.GetName()] = true
		}
	}
	if len(unfinished) == 0 {
		t.Fatalf("every video task finished before the cancel: %v", end.GetTasks())
	}
	before := objects(t, ctx, st, job.GetId())
	t.Logf("cancelled with %d tasks finished, %d video tasks unfinished, %d objects published", len(finished), len(unfinished), len(before))

	if _, err := jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: job.GetId()}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	// The leader applies the retry request asynchronously.
	poll(t, ctx, func() bool { return jobState(t, ctx, jobs, job.GetId()) != v1.JobState_JOB_STATE_CANCELLED })
	end = waitJob(t, ctx, jobs, job.GetId())
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("retried job ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	for _, tk := range end.GetTasks() {
		if f := finished[tk.GetName()]; f != nil && (tk.GetAttempt() != f.GetAttempt() || tk.GetLeaseToken() != f.GetLeaseToken()) {
			t.Errorf("finished task %s ran again: attempt %d token %d, before %d %d", tk.GetName(), tk.GetAttempt(), tk.GetLeaseToken(), f.GetAttempt(), f.GetLeaseToken())
		}
		if unfinished[tk.GetName()] && tk.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED {
			t.Errorf("unfinished task %s is %s after the retry", tk.GetName(), tk.GetState())
		}
	}
	after := objects(t, ctx, st, job.GetId())
	for p, o := range before {
		n := after[p]
		if n == nil || n.GetSha256() != o.GetSha256() || !n.GetModifiedAt().AsTime().Equal(o.GetModifiedAt().AsTime()) {
			t.Errorf("%s, published before the cancel, changed: %v -> %v", p, o, n)
		}
	}
	types, durs := streamDurations(t, end.GetJob().GetHlsUrl())
	for i := range types {
		if math.Abs(durs[i]-srcDur[0]) > 0.2 {
			t.Errorf("stream %d (%s) decodes to %.3fs, source %.3fs", i, types[i], durs[i], srcDur[0])
		}
	}
	if len(types) != 3 {
		t.Errorf("streams %v, want two videos and audio", types)
	}
}
