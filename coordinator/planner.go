package coordinator

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Task names inside a job. Video tasks are "video-<rendition>".
const (
	taskProbe   = "probe"
	taskAudio   = "audio"
	taskPackage = "package"
)

// defaultAudio is the single AAC stereo track of every asset.
var defaultAudio = &v1.AudioSpec{Bitrate: 128_000, Channels: 2, SampleRate: 48_000}

// Labels agents announce for the encoders their ffmpeg has; encode tasks
// require the one they use.
const (
	labelH264 = "encoder.libx264"
	labelAAC  = "encoder.aac"
)

// newTask makes a PENDING task of job. The task requires the job's agent
// selector plus what its kind needs.
func newTask(job *v1.Job, name string, spec *v1.TaskSpec, deps ...string) *v1.Task {
	req := map[string]string{}
	for k, v := range job.GetAgentSelector() {
		req[k] = v
	}
	switch spec.GetKind() {
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
		req[labelH264] = "true"
	case v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		req[labelAAC] = "true"
	}
	if len(req) > 0 {
		spec.Requires = req
	}
	return &v1.Task{
		Id:        job.GetId() + "." + name,
		JobId:     job.GetId(),
		Name:      name,
		State:     v1.TaskState_TASK_STATE_PENDING,
		Spec:      spec,
		DependsOn: deps,
	}
}

// planProbe is the first task of every job.
func planProbe(job *v1.Job) *v1.Task {
	return newTask(job, taskProbe, &v1.TaskSpec{
		Kind:   v1.TaskKind_TASK_KIND_PROBE,
		Source: job.GetSource(),
	})
}

// planEncodes turns a probed job into its encode tasks (one per rendition,
// one for audio when the source has any) and the package task that depends
// on all of them.
func planEncodes(job *v1.Job, probe *v1.ProbeResult) ([]*v1.Task, error) {
	if !probe.GetHasVideo() {
		return nil, fmt.Errorf("source has no video stream: %w", ErrInvalid)
	}
	renditions, err := selectRenditions(job.GetLadder(), probe.GetWidth(), probe.GetHeight())
	if err != nil {
		return nil, err
	}
	fps := outputFrameRate(probe.GetFrameRate())
	var tasks []*v1.Task
	var deps []string
	for _, r := range renditions {
		t := newTask(job, "video-"+r.GetName(), &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_ENCODE_VIDEO,
			Source:                job.GetSource(),
			Rendition:             r,
			SegmentSeconds:        job.GetSegmentSeconds(),
			SourceDurationSeconds: probe.GetDurationSeconds(),
			FrameRate:             fps,
		})
		tasks = append(tasks, t)
		deps = append(deps, t.GetName())
	}
	if probe.GetHasAudio() {
		t := newTask(job, taskAudio, &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_ENCODE_AUDIO,
			Source:                job.GetSource(),
			Audio:                 proto.Clone(defaultAudio).(*v1.AudioSpec),
			SegmentSeconds:        job.GetSegmentSeconds(),
			SourceDurationSeconds: probe.GetDurationSeconds(),
		})
		tasks = append(tasks, t)
		deps = append(deps, t.GetName())
	}
	tasks = append(tasks, newTask(job, taskPackage, &v1.TaskSpec{
		Kind:                  v1.TaskKind_TASK_KIND_PACKAGE,
		SegmentSeconds:        job.GetSegmentSeconds(),
		SourceDurationSeconds: probe.GetDurationSeconds(),
	}, deps...))
	return tasks, nil
}

// trackDir is where a task's outputs land inside the asset.
func trackDir(t *v1.Task) string {
	switch t.GetSpec().GetKind() {
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
		return "v" + t.GetSpec().GetRendition().GetName()
	case v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		return "audio"
	default:
		return ""
	}
}

// sortTasks orders tasks as planned: probe, video renditions from the
// tallest, audio, package.
func sortTasks(tasks []*v1.Task) {
	sort.SliceStable(tasks, func(i, j int) bool { return taskLess(tasks[i], tasks[j]) })
}

// taskLess is plan order.
func taskLess(x, y *v1.Task) bool {
	a, b := x.GetSpec(), y.GetSpec()
	if a.GetKind() != b.GetKind() {
		return a.GetKind() < b.GetKind()
	}
	if ha, hb := a.GetRendition().GetHeight(), b.GetRendition().GetHeight(); ha != hb {
		return ha > hb
	}
	return x.GetName() < y.GetName()
}

// jobProgress derives a job's progress from its tasks: probing is the
// first 5%, packaging the last 5%, encodes the rest weighted equally.
func jobProgress(job *v1.Job, tasks []*v1.Task) float64 {
	if job.GetState() == v1.JobState_JOB_STATE_SUCCEEDED {
		return 1
	}
	var probe, pkg, encSum float64
	var encN int
	for _, t := range tasks {
		p := t.GetProgress()
		if t.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED {
			p = 1
		}
		switch t.GetSpec().GetKind() {
		case v1.TaskKind_TASK_KIND_PROBE:
			probe = p
		case v1.TaskKind_TASK_KIND_PACKAGE:
			pkg = p
		default:
			encSum += p
			encN++
		}
	}
	enc := 0.0
	if encN > 0 {
		enc = encSum / float64(encN)
	}
	return 0.05*probe + 0.9*enc + 0.05*pkg
}

func isTerminal(s v1.JobState) bool {
	return s == v1.JobState_JOB_STATE_SUCCEEDED || s == v1.JobState_JOB_STATE_FAILED || s == v1.JobState_JOB_STATE_CANCELLED
}

func isTaskTerminal(s v1.TaskState) bool {
	return s == v1.TaskState_TASK_STATE_SUCCEEDED || s == v1.TaskState_TASK_STATE_FAILED || s == v1.TaskState_TASK_STATE_CANCELLED
}
