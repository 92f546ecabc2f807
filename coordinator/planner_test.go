package coordinator

import (
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// testJob is a job with thumbnails off, so plans hold encodes and the
// package only (extras have tests of their own).
func testJob() *v1.Job {
	return &v1.Job{
		Id:             "job1",
		Ladder:         "default",
		SegmentSeconds: 4,
		Source:         &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/x/a.mp4"}},
		Encode:         &v1.EncodeOptions{Outputs: &v1.Outputs{Thumbnails: proto.Bool(false)}},
	}
}

func TestPlanEncodes(t *testing.T) {
	probe := &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 1280, Height: 720, FrameRate: 30, DurationSeconds: 12}
	tasks, err := planEncodes(testJob(), probe)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range tasks {
		names = append(names, tk.GetName())
		if tk.GetJobId() != "job1" || tk.GetId() != "job1."+tk.GetName() {
			t.Errorf("task %q has ids %q/%q", tk.GetName(), tk.GetId(), tk.GetJobId())
		}
		if tk.GetState() != v1.TaskState_TASK_STATE_PENDING {
			t.Errorf("task %s state %s", tk.GetName(), tk.GetState())
		}
	}
	want := []string{"video-720p", "video-480p", "video-360p", "audio", "package"}
	if len(names) != len(want) {
		t.Fatalf("tasks %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("tasks %v, want %v", names, want)
		}
	}
	pkg := tasks[len(tasks)-1]
	if len(pkg.GetDependsOn()) != 4 {
		t.Errorf("package depends on %v", pkg.GetDependsOn())
	}
	v := tasks[0].GetSpec()
	if v.GetFrameRate() != 30 || v.GetSegmentSeconds() != 4 || v.GetSourceDurationSeconds() != 12 {
		t.Errorf("video spec %v", v)
	}
	if trackDir(tasks[0]) != "v720p" || trackDir(tasks[3]) != "audio" {
		t.Errorf("track dirs %q %q", trackDir(tasks[0]), trackDir(tasks[3]))
	}
}

func TestPlanEncodesWithoutAudio(t *testing.T) {
	tasks, err := planEncodes(testJob(), &v1.ProbeResult{HasVideo: true, Width: 640, Height: 360, FrameRate: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].GetName() != "video-360p" || tasks[1].GetName() != "package" {
		t.Fatalf("tasks %v", tasks)
	}
}

func TestPlanEncodesRejectsNoStreams(t *testing.T) {
	_, err := planEncodes(testJob(), &v1.ProbeResult{})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
}

func TestSortTasksPlanOrder(t *testing.T) {
	tasks, _ := planEncodes(testJob(), &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 1920, Height: 1080})
	tasks = append(tasks, planProbe(testJob()))
	// reverse, then sort back
	for i, j := 0, len(tasks)-1; i < j; i, j = i+1, j-1 {
		tasks[i], tasks[j] = tasks[j], tasks[i]
	}
	sortTasks(tasks)
	want := []string{"probe", "video-1080p", "video-720p", "video-480p", "video-360p", "audio", "package"}
	for i, w := range want {
		if tasks[i].GetName() != w {
			t.Fatalf("position %d: %s, want %s", i, tasks[i].GetName(), w)
		}
	}
}

func TestJobProgress(t *testing.T) {
	job := testJob()
	tasks, _ := planEncodes(job, &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 640, Height: 360})
	probe := planProbe(job)
	probe.State = v1.TaskState_TASK_STATE_SUCCEEDED
	all := append([]*v1.Task{probe}, tasks...)
	if p := jobProgress(job, all); math.Abs(p-0.05) > 1e-9 {
		t.Fatalf("after probe: %g", p)
	}
	tasks[0].Progress = 0.5 // video 50%, audio 0%
	if p := jobProgress(job, all); math.Abs(p-(0.05+0.9*0.25)) > 1e-9 {
		t.Fatalf("mid encode: %g", p)
	}
	job.State = v1.JobState_JOB_STATE_SUCCEEDED
	if p := jobProgress(job, all); p != 1 {
		t.Fatalf("succeeded: %g", p)
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	l := &leader{cfg: Config{RetryBackoff: 1e9, MaxRetryBackoff: 5e9}}
	want := []float64{1, 2, 4, 5, 5}
	for i, w := range want {
		if got := l.backoff(i + 1).Seconds(); got != w {
			t.Errorf("backoff(%d) = %gs, want %gs", i+1, got, w)
		}
	}
}

func TestValidateSubmit(t *testing.T) {
	ok := &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "https://example.com/a.mp4"}}}
	if err := validateSubmit(ok); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	bad := []*v1.SubmitJobRequest{
		{},
		{Source: &v1.Source{Location: &v1.Source_Url{Url: "file:///etc/passwd"}}},
		{Source: &v1.Source{Location: &v1.Source_Url{Url: "http://"}}},
		{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "assets/x"}}},
		{Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/../assets/x"}}},
		{Source: ok.Source, Ladder: "nope"},
		{Source: ok.Source, MaxAttempts: -1},
		{Source: ok.Source, SegmentSeconds: 0.5},
		{Source: ok.Source, Priority: 42},
		{Source: ok.Source, AgentSelector: map[string]string{"GPU Type": "x"}},
	}
	for i, r := range bad {
		if err := validateSubmit(r); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: want ErrInvalid, got %v", i, err)
		}
	}
}
