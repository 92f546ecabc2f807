package coordinator

import (
	"fmt"
	"strings"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// queue makes a job with n ready tasks named j/0..j/n-1, requiring req.
func queue(job string, n int, req map[string]string) jobQueue {
	jr := &jobRecord{job: &v1.Job{Id: job}, tasks: map[string]*taskRecord{}}
	q := jobQueue{jr: jr}
	for i := 0; i < n; i++ {
		tr := &taskRecord{task: &v1.Task{Id: fmt.Sprintf("%s/%d", job, i), Spec: &v1.TaskSpec{Requires: req}}}
		q.tasks = append(q.tasks, tr)
	}
	return q
}

func agentSession(id string, labels map[string]string) *session {
	return &session{agentID: id, labels: labels, running: map[string]bool{}}
}

func granted(b []pendingGrant) []string {
	var out []string
	for _, g := range b {
		out = append(out, g.tr.task.GetId()+"@"+g.s.agentID)
	}
	return out
}

func TestPlanBatchRoundRobinsJobsInAClass(t *testing.T) {
	a := agentSession("a", nil)
	// A big job submitted first cannot take every slot: jobs alternate.
	classes := [][]jobQueue{{queue("big", 10, nil), queue("small", 2, nil)}}
	got := granted(planBatch(classes, map[*session]int{a: 5}, 100))
	want := []string{"big/0@a", "small/0@a", "big/1@a", "small/1@a", "big/2@a"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
}

func TestPlanBatchServesHigherClassesFirst(t *testing.T) {
	a := agentSession("a", nil)
	classes := [][]jobQueue{{queue("high", 2, nil)}, {queue("normal", 3, nil)}, {queue("low", 3, nil)}}
	got := granted(planBatch(classes, map[*session]int{a: 4}, 100))
	want := []string{"high/0@a", "high/1@a", "normal/0@a", "normal/1@a"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
}

func TestPlanBatchMatchesLabels(t *testing.T) {
	cpu := agentSession("cpu", map[string]string{"encoder.libx264": "true"})
	gpu := agentSession("gpu", map[string]string{"encoder.libx264": "true", "gpu": "nvidia"})
	classes := [][]jobQueue{{
		queue("needsgpu", 2, map[string]string{"gpu": "nvidia"}),
		queue("needsav1", 1, map[string]string{"encoder.libsvtav1": "true"}),
		queue("any", 2, map[string]string{"encoder.libx264": "true"}),
	}}
	got := granted(planBatch(classes, map[*session]int{cpu: 2, gpu: 1}, 100))
	// The GPU job only ever lands on the GPU agent (one slot); nothing can
	// run the AV1 task; the rest go to the CPU agent.
	want := []string{"needsgpu/0@gpu", "any/0@cpu", "any/1@cpu"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
}

func TestPlanBatchRespectsLimitAndFreeSlots(t *testing.T) {
	a, b := agentSession("a", nil), agentSession("b", nil)
	free := map[*session]int{a: 3, b: 3}
	got := planBatch([][]jobQueue{{queue("j", 10, nil)}}, free, 4)
	if len(got) != 4 || free[a]+free[b] != 2 {
		t.Fatalf("granted %d, free left a=%d b=%d", len(got), free[a], free[b])
	}
	if got := planBatch([][]jobQueue{{queue("k", 10, nil)}}, map[*session]int{a: 0}, 4); len(got) != 0 {
		t.Fatalf("granted %d with no free slot", len(got))
	}
}

func TestNewTaskRequirements(t *testing.T) {
	job := testJob()
	job.AgentSelector = map[string]string{"gpu": "nvidia"}
	tasks, err := planEncodes(job, &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 640, Height: 360})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"video-360p": "gpu=nvidia codec.h264=true",
		"audio":      "gpu=nvidia encoder.aac=true",
		"package":    "gpu=nvidia",
	}
	for _, tk := range tasks {
		r := tk.GetSpec().GetRequires()
		for _, kv := range splitPairs(want[tk.GetName()]) {
			if r[kv[0]] != kv[1] {
				t.Errorf("%s requires %v, missing %s=%s", tk.GetName(), r, kv[0], kv[1])
			}
		}
		if len(r) != len(splitPairs(want[tk.GetName()])) {
			t.Errorf("%s requires %v, want %s", tk.GetName(), r, want[tk.GetName()])
		}
	}
}

func splitPairs(s string) [][2]string {
	var out [][2]string
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

// TestPlanBatchKeepsAChunkOnOneAgent: the renditions of one chunk go to
// the same agent while it has free slots, so it decodes the chunk once.
func TestPlanBatchKeepsAChunkOnOneAgent(t *testing.T) {
	job := testJob()
	job.Encode.ChunkSeconds = 8
	tasks, err := planEncodes(job, &v1.ProbeResult{HasVideo: true, Width: 1280, Height: 720, FrameRate: 30, DurationSeconds: 16})
	if err != nil {
		t.Fatal(err)
	}
	jr := &jobRecord{job: job, tasks: map[string]*taskRecord{}}
	q := jobQueue{jr: jr}
	sortTasks(tasks)
	for _, tk := range tasks {
		if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
			q.tasks = append(q.tasks, &taskRecord{task: tk})
		}
	}
	labels := withCodecLabels(map[string]string{"encoder.libx264": "true"})
	a, b := agentSession("a", labels), agentSession("b", labels)
	got := granted(planBatch([][]jobQueue{{q}}, map[*session]int{a: 3, b: 3}, 100))
	want := []string{"job1.video-720p-c01@a", "job1.video-480p-c01@a", "job1.video-360p-c01@a",
		"job1.video-720p-c02@b", "job1.video-480p-c02@b", "job1.video-360p-c02@b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
}

// chunkedJobQueue plans a 16 s 720p source with thumbnails in 8 s chunks
// (3 renditions x 2 chunks, audio, thumbnails) and returns its ready
// tasks in queue order (the package task waits for the others).
func chunkedJobQueue(t *testing.T) jobQueue {
	t.Helper()
	job := testJob()
	job.Encode.ChunkSeconds = 8
	job.Encode.Outputs.Thumbnails = nil // default: on
	tasks, err := planEncodes(job, &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 1280, Height: 720, FrameRate: 30, DurationSeconds: 16})
	if err != nil {
		t.Fatal(err)
	}
	sortTasks(tasks)
	q := jobQueue{jr: &jobRecord{job: job, tasks: map[string]*taskRecord{}}}
	for _, tk := range tasks {
		if tk.GetSpec().GetKind() != v1.TaskKind_TASK_KIND_PACKAGE {
			q.tasks = append(q.tasks, &taskRecord{task: tk})
		}
	}
	return q
}

// slotted is an x264/AAC agent with slots slots.
func slotted(id string, slots int) *session {
	s := agentSession(id, withCodecLabels(map[string]string{"encoder.libx264": "true", "encoder.aac": "true"}))
	s.slots = slots
	return s
}

// TestPlanBatchWaitsForRoomForAWholeChunk: a chunk's renditions are not
// spread over the slots of busy agents as they free up (each would decode
// the chunk again); they wait for an agent with room for all of them,
// while the job's audio and thumbnails use the free slots. An agent with
// fewer slots than the chunk has renditions takes as many as it holds
// once it is idle, and the rest of the chunk goes elsewhere.
func TestPlanBatchWaitsForRoomForAWholeChunk(t *testing.T) {
	a, b := slotted("a", 3), slotted("b", 3)
	got := granted(planBatch([][]jobQueue{{chunkedJobQueue(t)}}, map[*session]int{a: 2, b: 1}, 100))
	want := []string{"job1.audio@a", "job1.thumbnails@a"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("busy agents: granted %v, want %v", got, want)
	}

	// Once the agents are idle each takes a whole chunk; the other tasks
	// take what is left.
	free := map[*session]int{a: 3, b: 3}
	got = granted(planBatch([][]jobQueue{{chunkedJobQueue(t)}}, free, 100))
	want = []string{"job1.video-720p-c01@a", "job1.video-480p-c01@a", "job1.video-360p-c01@a",
		"job1.video-720p-c02@b", "job1.video-480p-c02@b", "job1.video-360p-c02@b"}
	if fmt.Sprint(got) != fmt.Sprint(want) || free[a] != 0 || free[b] != 0 {
		t.Fatalf("idle agents: granted %v (free a=%d b=%d), want %v", got, free[a], free[b], want)
	}

	// Small agents: the idle 2-slot agent takes two renditions of the
	// first chunk; its third rendition, now a group of one, goes to the
	// agent with the most free slots; the idle 1-slot agent takes one
	// rendition of the second chunk, whose rest the 3-slot agent (one
	// slot left) does not take piecemeal: the audio gets that slot.
	c, d, e := slotted("c", 2), slotted("d", 1), slotted("e", 3)
	got = granted(planBatch([][]jobQueue{{chunkedJobQueue(t)}}, map[*session]int{c: 2, d: 1, e: 2}, 100))
	want = []string{"job1.video-720p-c01@c", "job1.video-480p-c01@c", "job1.video-360p-c01@e",
		"job1.video-720p-c02@d", "job1.audio@e"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("small agents: granted %v, want %v", got, want)
	}
}
