package coordinator

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/simagent"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Injected capability lists, as agents announce them: a software x264
// agent, one with only HEVC (say hevc_nvenc) and one with only AV1.
var (
	x264Labels = map[string]string{"encoder.libx264": "true", "codec.h264": "true", "encoder.aac": "true"}
	hevcLabels = map[string]string{"encoder.hevc_nvenc": "true", "hwaccel": "nvenc", "codec.hevc": "true", "encoder.aac": "true"}
	av1Labels  = map[string]string{"encoder.libsvtav1": "true", "codec.av1": "true"}
)

// grantLog records which simulated agent each task went to.
type grantLog struct {
	mu sync.Mutex
	to map[string]string // task name -> agent
}

func (g *grantLog) add(x simagent.Grant) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.to[x.Task.GetName()] = x.Agent
}

func (g *grantLog) agentOf(task string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.to[task]
}

// startSim runs a simulated agent with labels against the harness.
func (h *harness) startSim(id string, labels map[string]string, log *grantLog) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	a := &simagent.Agent{ID: id, Slots: 4, Coordinators: []string{h.addr}, Labels: labels, OnGrant: log.add,
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	stop := func() { cancel(); <-done }
	h.t.Cleanup(stop)
	h.eventually("agent "+id+" connected", func() bool {
		info, err := h.c.ClusterInfo(context.Background())
		if err != nil {
			return false
		}
		for _, ag := range info.GetAgents() {
			if ag.GetId() == id && ag.GetState() == v1.AgentState_AGENT_STATE_CONNECTED {
				return true
			}
		}
		return false
	})
	return cancel
}

// submitLadder submits a job whose renditions use codecs (one each, at
// the simulated source's 2x2 size, named after the codec).
func (h *harness) submitLadder(selector map[string]string, codecs ...v1.VideoCodec) string {
	h.t.Helper()
	var reqs []*v1.RenditionRequest
	for _, c := range codecs {
		name := strings.ToLower(strings.TrimPrefix(c.String(), "VIDEO_CODEC_"))
		reqs = append(reqs, &v1.RenditionRequest{Name: name, Height: 2, Codec: c})
	}
	resp, err := h.jobs.SubmitJob(context.Background(), &v1.SubmitJobRequest{
		Source:        &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}},
		AgentSelector: selector,
		Encode:        &v1.EncodeOptions{Renditions: reqs, Outputs: &v1.Outputs{Thumbnails: proto.Bool(false)}},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetJob().GetId()
}

func (h *harness) getJob(id string) *v1.Job {
	h.t.Helper()
	resp, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: id})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetJob()
}

// checkNow runs the unschedulable check on the leader's loop and waits
// for its writes, so a test can assert what did not happen yet.
func (h *harness) checkNow() {
	h.t.Helper()
	l := h.c.leader.Load()
	if l == nil {
		h.t.Fatal("not leading")
	}
	if err := l.do(context.Background(), l.checkUnschedulable); err != nil {
		h.t.Fatal(err)
	}
}

// TestCodecTasksGoToCapableAgents: each rendition's encode goes only to
// the agent announcing its codec.
func TestCodecTasksGoToCapableAgents(t *testing.T) {
	h := newAgentlessHarness(t)
	log := &grantLog{to: map[string]string{}}
	h.startSim("x264", x264Labels, log)
	h.startSim("hevc", hevcLabels, log)
	h.startSim("av1", av1Labels, log)
	id := h.submitLadder(nil, v1.VideoCodec_VIDEO_CODEC_H264, v1.VideoCodec_VIDEO_CODEC_HEVC, v1.VideoCodec_VIDEO_CODEC_AV1)
	h.eventually("job succeeded", func() bool { return h.getJob(id).GetState() == v1.JobState_JOB_STATE_SUCCEEDED })
	for task, agent := range map[string]string{"video-h264": "x264", "video-hevc": "hevc", "video-av1": "av1"} {
		if got := log.agentOf(task); got != agent {
			t.Errorf("%s ran on %q, want %q", task, got, agent)
		}
	}
	if e := h.getJob(id).GetError(); e != "" {
		t.Errorf("succeeded job has error %q", e)
	}
}

// TestUnschedulableJobReasonAndGrace: a job nobody can run says why at
// once, is still waiting just before the grace period ends, and fails with
// the reason when it does; an agent that can run it arriving within the
// grace period clears the reason and runs it. Operator labels follow the
// same rule.
func TestUnschedulableJobReasonAndGrace(t *testing.T) {
	h := newAgentlessHarness(t)
	grace := h.c.cfg.UnschedulableAfter
	log := &grantLog{to: map[string]string{}}
	h.startSim("x264", x264Labels, log)

	// An AV1 job: the probe runs, then the AV1 encode has nowhere to go.
	av1 := h.submitLadder(nil, v1.VideoCodec_VIDEO_CODEC_AV1)
	want := "no connected agent can run task video-av1: it needs codec.av1=true; connected agents: x264 lacks codec.av1=true (has codec.h264=true encoder.aac=true encoder.libx264=true); the job fails if none can within 5m0s"
	h.eventually("the waiting reason", func() bool { return h.getJob(av1).GetError() == want })
	if st := h.getJob(av1).GetState(); st != v1.JobState_JOB_STATE_RUNNING {
		t.Fatalf("waiting job is %s", st)
	}

	// An operator label nobody has: the probe itself waits.
	gpu := h.submitLadder(map[string]string{"gpu": "nvidia"}, v1.VideoCodec_VIDEO_CODEC_H264)
	h.eventually("the gpu job's reason", func() bool {
		return strings.HasPrefix(h.getJob(gpu).GetError(), "no connected agent can run task probe: it needs gpu=nvidia;")
	})

	h.clock.Advance(grace - time.Second)
	h.checkNow()
	for _, id := range []string{av1, gpu} {
		if j := h.getJob(id); j.GetState() == v1.JobState_JOB_STATE_FAILED {
			t.Fatalf("job %s failed before the grace period ended: %s", id, j.GetError())
		}
	}

	// An AV1 agent arrives in time: the AV1 job runs and its reason goes.
	h.startSim("av1", av1Labels, log)
	h.eventually("the AV1 job succeeded", func() bool { return h.getJob(av1).GetState() == v1.JobState_JOB_STATE_SUCCEEDED })
	if j := h.getJob(av1); j.GetError() != "" || log.agentOf("video-av1") != "av1" {
		t.Errorf("AV1 job error %q, encode ran on %q", j.GetError(), log.agentOf("video-av1"))
	}

	// Nobody with gpu=nvidia: the job fails once the grace period is over.
	h.clock.Advance(time.Second)
	h.eventually("the gpu job failed", func() bool { return h.getJob(gpu).GetState() == v1.JobState_JOB_STATE_FAILED })
	j := h.getJob(gpu)
	if !strings.HasPrefix(j.GetError(), "no agent could run task probe for 5m0s: it needs gpu=nvidia; connected agents: av1 lacks gpu=nvidia") ||
		!strings.Contains(j.GetError(), "x264 lacks gpu=nvidia") {
		t.Errorf("failed job error %q", j.GetError())
	}
	resp, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: gpu})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range resp.GetTasks() {
		if tk.GetName() == "probe" && (tk.GetState() != v1.TaskState_TASK_STATE_CANCELLED || tk.GetError() != j.GetError()) {
			t.Errorf("probe task %s %q", tk.GetState(), tk.GetError())
		}
	}
}

// TestUnschedulableWithNoAgents: with no agent at all the reason says so.
func TestUnschedulableWithNoAgents(t *testing.T) {
	h := newAgentlessHarness(t)
	id := h.submitLadder(nil, v1.VideoCodec_VIDEO_CODEC_H264)
	h.eventually("the reason", func() bool {
		return h.getJob(id).GetError() == "no connected agent can run task probe: it needs nothing; no agent is connected; the job fails if none can within 5m0s"
	})
	h.clock.Advance(h.c.cfg.UnschedulableAfter)
	h.eventually("the job failed", func() bool { return h.getJob(id).GetState() == v1.JobState_JOB_STATE_FAILED })
}

func TestWithCodecLabels(t *testing.T) {
	legacy := map[string]string{"encoder.libx264": "true", "encoder.libsvtav1": "true", "encoder.aac": "true", "gpu": "nvidia"}
	got := withCodecLabels(legacy)
	want := maps.Clone(legacy)
	want["codec.h264"], want["codec.av1"] = "true", "true"
	if !maps.Equal(got, want) {
		t.Errorf("legacy agent: %v, want %v", got, want)
	}
	if _, ok := legacy["codec.h264"]; ok {
		t.Error("the announced labels were modified")
	}
	// A current agent whose libx265 failed its test encode keeps its
	// labels as announced.
	current := map[string]string{"encoder.libx264": "true", "encoder.libx265": "true", "codec.h264": "true"}
	if got := withCodecLabels(current); !maps.Equal(got, current) {
		t.Errorf("current agent: %v", got)
	}
}
