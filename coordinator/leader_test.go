package coordinator

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/clock"
	"github.com/vodfleet/vodfleet/internal/etcdserver/etcdtest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// recordingPublisher records Publish calls instead of talking to storage;
// placement comes from a real (never dialed) storage pool.
type recordingPublisher struct {
	*storage.Pool
	mu    sync.Mutex
	calls []string
}

func newRecordingPublisher() *recordingPublisher {
	pool, err := storage.NewPool([]storage.Node{{Address: "unused:1"}})
	if err != nil {
		panic(err)
	}
	return &recordingPublisher{Pool: pool}
}

func (p *recordingPublisher) Publish(_ context.Context, _, from, to string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, from+" -> "+to)
	return 1, nil
}

func (p *recordingPublisher) published() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// harness is a real coordinator on embedded etcd and loopback gRPC, with a
// fake clock for lease deadlines and a hand-driven agent stream.
type harness struct {
	t      *testing.T
	addr   string
	c      *Coordinator
	clock  *clock.Fake
	pub    *recordingPublisher
	jobs   v1.JobServiceClient
	agents v1.AgentServiceClient
	agent  v1.AgentService_ConnectClient
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newAgentlessHarness(t)
	var err error
	sctx, scancel := context.WithCancel(context.Background())
	t.Cleanup(scancel)
	h.agent, err = h.agents.Connect(sctx)
	if err != nil {
		t.Fatal(err)
	}
	h.send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{AgentId: "a1", Slots: 4,
		Labels: map[string]string{"encoder.libx264": "true", labelAAC: "true"}}}})
	if m := h.recv(); m.GetAccepted() == nil {
		t.Fatalf("hello answered with %v", m)
	}
	return h
}

// newAgentlessHarness is the harness without the hand-driven agent: tests
// connect their own (simulated) agents to h.addr.
func newAgentlessHarness(t *testing.T) *harness {
	t.Helper()
	_, cli := etcdtest.Start(t)
	h := &harness{t: t, clock: clock.NewFake(time.Unix(1_800_000_000, 0)), pub: newRecordingPublisher()}
	cfg := Config{AdvertiseAddress: "leader.test:7000", LeaseDuration: 10 * time.Second, RetryBackoff: 2 * time.Second, TickInterval: 20 * time.Millisecond}
	c, err := New(cfg, cli, h.pub, hclog.NewNullLogger(), WithClock(h.clock))
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	srv := grpc.NewServer()
	c.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	h.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	for !c.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("coordinator never became leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h.jobs = v1.NewJobServiceClient(conn)
	h.agents = v1.NewAgentServiceClient(conn)
	return h
}

func (h *harness) send(m *v1.ConnectRequest) {
	h.t.Helper()
	if err := h.agent.Send(m); err != nil {
		h.t.Fatal(err)
	}
}

// recv returns the next message from the leader, failing after 10 s.
func (h *harness) recv() *v1.ConnectResponse {
	h.t.Helper()
	ch := make(chan *v1.ConnectResponse, 1)
	errc := make(chan error, 1)
	go func() {
		m, err := h.agent.Recv()
		if err != nil {
			errc <- err
			return
		}
		ch <- m
	}()
	select {
	case m := <-ch:
		return m
	case err := <-errc:
		h.t.Fatalf("recv: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("no message from the leader within 10s")
	}
	return nil
}

// grants receives n lease grants, keyed by task name.
func (h *harness) grants(n int) map[string]*v1.LeaseGrant {
	h.t.Helper()
	out := map[string]*v1.LeaseGrant{}
	for len(out) < n {
		m := h.recv()
		g := m.GetGrant()
		if g == nil {
			h.t.Fatalf("want a grant, got %v", m)
		}
		out[g.GetTask().GetName()] = g
	}
	return out
}

// complete reports success of a grant and returns the leader's answer.
func (h *harness) complete(g *v1.LeaseGrant, res *v1.TaskResult) error {
	_, err := h.agents.CompleteTask(context.Background(), &v1.CompleteTaskRequest{
		AgentId: "a1", TaskId: g.GetTask().GetId(), LeaseToken: g.GetLeaseToken(), Result: res})
	return err
}

func (h *harness) fail(g *v1.LeaseGrant, reason string, retryable bool) {
	h.t.Helper()
	if _, err := h.agents.FailTask(context.Background(), &v1.FailTaskRequest{
		AgentId: "a1", TaskId: g.GetTask().GetId(), LeaseToken: g.GetLeaseToken(), Error: reason, Retryable: retryable}); err != nil {
		h.t.Fatalf("fail %s: %v", g.GetTask().GetName(), err)
	}
}

// mustComplete reports success and expects it accepted.
func (h *harness) mustComplete(g *v1.LeaseGrant, res *v1.TaskResult) {
	h.t.Helper()
	if err := h.complete(g, res); err != nil {
		h.t.Fatalf("complete %s: %v", g.GetTask().GetName(), err)
	}
}

func (h *harness) task(jobID, name string) *v1.Task {
	h.t.Helper()
	resp, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: jobID})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, tk := range resp.GetTasks() {
		if tk.GetName() == name {
			return tk
		}
	}
	h.t.Fatalf("job %s has no task %s", jobID, name)
	return nil
}

// eventually polls cond for up to 10 s.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("timed out waiting for %s", what)
}

func track() *v1.TaskResult {
	return &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{InitName: "init.mp4",
		Segments: []*v1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 4}}}}}
}

func TestLeasesExpireRetryAndFenceStaleCompletions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source:      &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}},
		MaxAttempts: 2,
		Encode:      &v1.EncodeOptions{Outputs: &v1.Outputs{Thumbnails: proto.Bool(false)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	jobID := resp.GetJob().GetId()

	probe := h.grants(1)["probe"]
	if probe.GetAttempt() != 1 || probe.GetLeaseToken() <= 0 || probe.GetStagingPrefix() != "staging/"+jobID+".probe/1/" {
		t.Fatalf("probe grant %v", probe)
	}
	h.mustComplete(probe, &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: &v1.ProbeResult{
		HasVideo: true, HasAudio: true, Width: 640, Height: 360, FrameRate: 25, DurationSeconds: 4}}})
	gs := h.grants(2)
	video, audio := gs["video-360p"], gs["audio"]
	if video == nil || audio == nil {
		t.Fatalf("grants after probe: %v", gs)
	}

	// Progress renews the audio lease; the video lease gets none and expires.
	h.clock.Advance(6 * time.Second)
	h.send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Progress{Progress: &v1.TaskProgress{
		TaskId: audio.GetTask().GetId(), LeaseToken: audio.GetLeaseToken(), Progress: 0.5}}})
	h.eventually("audio progress recorded", func() bool { return h.task(jobID, "audio").GetProgress() == 0.5 })
	h.clock.Advance(5 * time.Second)
	h.eventually("video requeued", func() bool {
		tk := h.task(jobID, "video-360p")
		return tk.GetState() == v1.TaskState_TASK_STATE_PENDING && strings.Contains(tk.GetError(), "lease expired")
	})
	if m := h.recv(); m.GetCancel().GetTaskId() != video.GetTask().GetId() {
		t.Fatalf("expired lease not cancelled on the agent: %v", m)
	}
	// Not re-granted before the backoff (2 s) is over.
	h.clock.Advance(time.Second)
	time.Sleep(100 * time.Millisecond)
	if st := h.task(jobID, "video-360p").GetState(); st != v1.TaskState_TASK_STATE_PENDING {
		t.Fatalf("video re-granted during backoff: %s", st)
	}
	// After the backoff the agent is still suspect (its lease expired in
	// silence): nothing is granted to it until it shows life again.
	h.clock.Advance(2 * time.Second)
	time.Sleep(100 * time.Millisecond)
	if st := h.task(jobID, "video-360p").GetState(); st != v1.TaskState_TASK_STATE_PENDING {
		t.Fatalf("video granted to a suspect agent: %s", st)
	}
	h.send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Progress{Progress: &v1.TaskProgress{
		TaskId: audio.GetTask().GetId(), LeaseToken: audio.GetLeaseToken(), Progress: 0.6}}})
	retry := h.grants(1)["video-360p"]
	if retry.GetAttempt() != 2 || retry.GetLeaseToken() <= video.GetLeaseToken() {
		t.Fatalf("retry grant attempt %d token %d (first token %d)", retry.GetAttempt(), retry.GetLeaseToken(), video.GetLeaseToken())
	}
	if st := h.task(jobID, "audio").GetState(); st != v1.TaskState_TASK_STATE_RUNNING {
		t.Fatalf("renewed audio lease is %s", st)
	}

	// A completion with the first attempt's token is refused and not published.
	if err := h.complete(video, track()); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "stale lease") {
		t.Fatalf("stale completion answered with %v", err)
	}
	for _, c := range h.pub.published() {
		if strings.Contains(c, ".video-360p/1/") {
			t.Fatalf("stale attempt published: %s", c)
		}
	}
	h.mustComplete(retry, track())
	h.eventually("video succeeded", func() bool {
		return h.task(jobID, "video-360p").GetState() == v1.TaskState_TASK_STATE_SUCCEEDED
	})
	want := "staging/" + jobID + ".video-360p/2/ -> assets/" + jobID + "/v360p/"
	// Publishing starts after the success is committed, off the leader loop.
	h.eventually("video published", func() bool { return len(h.pub.published()) > 0 })
	if calls := h.pub.published(); len(calls) != 1 || calls[0] != want {
		t.Fatalf("published %v, want [%s]", calls, want)
	}

	// Audio fails retryably until attempts (2) run out: the job fails with the reason.
	h.fail(audio, "boom", true)
	h.eventually("audio requeued", func() bool {
		return h.task(jobID, "audio").GetState() == v1.TaskState_TASK_STATE_PENDING
	})
	h.clock.Advance(3 * time.Second)
	audio2 := h.grants(1)["audio"]
	h.fail(audio2, "boom again", true)
	h.eventually("job failed", func() bool {
		r, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: jobID})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_FAILED
	})
	r, _ := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: jobID})
	if got := r.GetJob().GetError(); got != "audio failed after 2 attempts: boom again" {
		t.Fatalf("job error %q", got)
	}
	for _, tk := range r.GetTasks() {
		if tk.GetName() == "package" && tk.GetState() != v1.TaskState_TASK_STATE_CANCELLED {
			t.Fatalf("package task is %s after the job failed", tk.GetState())
		}
	}

	// Retry: the failed task runs again with a fresh budget; its attempt
	// number (and so its staging prefix) keeps growing; the succeeded
	// video task is not redone.
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: jobID}); err != nil {
		t.Fatal(err)
	}
	audio3 := h.grants(1)["audio"]
	if audio3.GetAttempt() != 3 || audio3.GetStagingPrefix() != "staging/"+jobID+".audio/3/" {
		t.Fatalf("retried audio grant %v", audio3)
	}
	h.mustComplete(audio3, track())
	pkg := h.grants(1)["package"]
	h.mustComplete(pkg, &v1.TaskResult{Result: &v1.TaskResult_Package{Package: &v1.PackageResult{HlsMaster: "master.m3u8", DashManifest: "manifest.mpd"}}})
	h.eventually("retried job succeeded", func() bool {
		r, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: jobID})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_SUCCEEDED
	})
	h.eventually("retried job published", func() bool { return len(h.pub.published()) >= 3 })
	if n := len(h.pub.published()); n != 3 { // video, audio attempt 3, package
		t.Fatalf("published %d times: %v", n, h.pub.published())
	}
	if v := h.task(jobID, "video-360p"); v.GetAttempt() != 2 || v.GetLeaseToken() != retry.GetLeaseToken() {
		t.Fatalf("the finished video task re-ran on retry: attempt %d token %d", v.GetAttempt(), v.GetLeaseToken())
	}
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: jobID}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("retry of a succeeded job: %v", err)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	h := newHarness(t)
	resp, err := h.jobs.SubmitJob(context.Background(), &v1.SubmitJobRequest{
		Source: &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	probe := h.grants(1)["probe"]
	h.fail(probe, "invalid data found when processing input", false)
	h.eventually("job failed", func() bool {
		r, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: resp.GetJob().GetId()})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_FAILED &&
			r.GetJob().GetError() == "probe failed: invalid data found when processing input" &&
			r.GetTasks()[0].GetAttempt() == 1
	})
}

func TestMalformedRequestsGetInvalidArgument(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["submit without source"] = h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{})
	_, checks["submit file url"] = h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "file:///etc/passwd"}}})
	_, checks["get with path id"] = h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: "../x"})
	_, checks["cancel without id"] = h.jobs.CancelJob(ctx, &v1.CancelJobRequest{})
	_, checks["list negative limit"] = h.jobs.ListJobs(ctx, &v1.ListJobsRequest{Limit: -1})
	for name, err := range checks {
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: "nosuchjob"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown job: %v, want NotFound", err)
	}
	// An agent stream that does not start with a hello is refused.
	conn, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for name, first := range map[string]*v1.ConnectRequest{
		"progress first": {Msg: &v1.ConnectRequest_Progress{Progress: &v1.TaskProgress{TaskId: "x"}}},
		"zero slots":     {Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{AgentId: "a2"}}},
		"bad agent id":   {Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{AgentId: "a/b", Slots: 1}}},
	} {
		stream, err := v1.NewAgentServiceClient(conn).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(first); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	// The leader still works.
	if _, err := h.jobs.ListJobs(ctx, &v1.ListJobsRequest{}); err != nil {
		t.Fatalf("after malformed requests: %v", err)
	}
}
