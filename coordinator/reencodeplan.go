package coordinator

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// A reencode job (ReencodeAsset) changes a published asset: it encodes
// only the renditions it adds or replaces, then packages manifests over
// those and everything the asset keeps. What is kept enters the job as
// "kept-" tasks, SUCCEEDED and published from the start: copies of the
// succeeded tasks of the asset's last complete version, whose results name
// objects already in the asset. The package task depends on kept and new
// tasks alike, so depOutputs and the agent's package runner need no
// special case, and the package's publish (the manifests, one atomic
// storage transaction) comes after every new segment is published.

// keptPrefix starts the names of a reencode job's kept tasks.
const keptPrefix = "kept-"

// isKept reports whether t is a kept task of a reencode job (no work of
// its own).
func isKept(t *v1.Task) bool { return strings.HasPrefix(t.GetName(), keptPrefix) }

// replacedDir is the track directory of a rendition re-encoded by job: a
// new one, so the old manifests' segments stay in place until the switch.
func replacedDir(jobID, rendition string) string { return "v" + rendition + "_r" + jobID }

// keptTasks derives what a reencode keeps from the tasks of the base job
// (the asset's last complete version): one task per track directory (the
// chunks of a rendition merged in timeline order) and the thumbnails,
// subtitles and mux tasks, each renamed "kept-...", in the base package's
// dependency order. It fails when the base's package task did not succeed
// and publish.
func keptTasks(base []*v1.Task) ([]*v1.Task, error) {
	byName := map[string]*v1.Task{}
	var pkg *v1.Task
	for _, t := range base {
		byName[t.GetName()] = t
		if t.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_PACKAGE {
			pkg = t
		}
	}
	if pkg == nil || pkg.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || !pkg.GetPublished() {
		return nil, fmt.Errorf("the asset's last job has no published manifests: %w", ErrAssetBusy)
	}
	var out []*v1.Task
	chunks := map[string][]*v1.Task{}
	for _, d := range pkg.GetDependsOn() {
		t := byName[d]
		if t == nil || t.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED {
			return nil, fmt.Errorf("the asset's task %s did not succeed: %w", d, ErrAssetBusy)
		}
		if t.GetResult().GetTrack() != nil {
			dir := t.GetResult().GetTrack().GetDir()
			if _, ok := chunks[dir]; !ok {
				kt := proto.Clone(t).(*v1.Task)
				kt.Name = keptPrefix + dir
				kt.GetSpec().Chunk = nil
				out = append(out, kt)
			}
			chunks[dir] = append(chunks[dir], t)
			continue
		}
		kt := proto.Clone(t).(*v1.Task)
		kt.Name = keptPrefix + strings.TrimPrefix(t.GetName(), keptPrefix)
		out = append(out, kt)
	}
	for _, kt := range out {
		if tk := kt.GetResult().GetTrack(); tk != nil {
			kt.Result = &v1.TaskResult{Result: &v1.TaskResult_Track{Track: mergeChunks(chunks[tk.GetDir()])}}
		}
	}
	return out, nil
}

// planReencode is the whole plan of a reencode job, a pure function of the
// job record (the leader rebuilds it from the record, like a probe task):
// the kept tasks, per new rendition one video encode per chunk (and a mux
// when the asset has MP4 or MPEG-TS outputs), and the package task after
// all of them. Timing (frame rate, chunks, segment duration) is derived
// from the base's probe and options, so new segments line up with the
// kept audio.
func planReencode(job *v1.Job) []*v1.Task {
	rs := job.GetReencode()
	probe := job.GetProbe()
	opts := job.GetEncode()
	outputs := resolveOutputs(opts.GetOutputs())
	seg, dur := job.GetSegmentSeconds(), probe.GetDurationSeconds()
	var tasks []*v1.Task
	var deps []string
	hasAudio := false
	for _, k := range rs.GetKept() {
		t := proto.Clone(k).(*v1.Task)
		t.Id, t.JobId = job.GetId()+"."+t.GetName(), job.GetId()
		t.State, t.Published = v1.TaskState_TASK_STATE_SUCCEEDED, true
		t.Attempt, t.AttemptsBeforeRetry, t.LeaseToken, t.AgentId = 0, 0, 0, ""
		t.LeaseDeadline, t.NotBefore, t.UpdatedAt, t.DependsOn = nil, nil, nil, nil
		t.Progress, t.Fps, t.Speed, t.EtaSeconds, t.Error = 1, 0, 0, 0, ""
		tasks = append(tasks, t)
		deps = append(deps, t.GetName())
		if t.GetResult().GetTrack().GetDir() == "audio" {
			hasAudio = true
		}
	}
	replaced := map[string]bool{}
	for _, n := range rs.GetReplace() {
		replaced[n] = true
	}
	fps := outputFrameRate(probe.GetFrameRate(), opts.GetMaxFrameRate())
	chunks := planChunks(dur, seg, chunkSeconds(opts), len(rs.GetRenditions()))
	ts := outputs.GetHls() && outputs.GetHlsSegments() == v1.SegmentFormat_SEGMENT_FORMAT_TS
	for _, r := range rs.GetRenditions() {
		var videoTasks []string
		dir := ""
		if replaced[r.GetName()] {
			dir = replacedDir(job.GetId(), r.GetName())
		}
		for _, c := range chunks {
			name := "video-" + r.GetName()
			if c != nil {
				name = fmt.Sprintf("%s-c%02d", name, c.GetIndex()+1)
			}
			tasks = append(tasks, newTask(job, name, &v1.TaskSpec{
				Kind:                  v1.TaskKind_TASK_KIND_ENCODE_VIDEO,
				Source:                job.GetSource(),
				Rendition:             r,
				SegmentSeconds:        seg,
				SourceDurationSeconds: dur,
				FrameRate:             fps,
				Chunk:                 c,
				AssetId:               job.GetAssetId(),
				TrackDir:              dir,
			}))
			videoTasks = append(videoTasks, name)
			deps = append(deps, name)
		}
		if outputs.GetMp4() || ts {
			muxDeps := append([]string(nil), videoTasks...)
			if hasAudio {
				muxDeps = append(muxDeps, keptPrefix+"audio")
			}
			name := "mux-" + r.GetName()
			tasks = append(tasks, newTask(job, name, &v1.TaskSpec{
				Kind:                  v1.TaskKind_TASK_KIND_MUX,
				Rendition:             r,
				Mux:                   &v1.MuxSpec{Mp4: outputs.GetMp4(), Ts: ts},
				SegmentSeconds:        seg,
				SourceDurationSeconds: dur,
				AssetId:               job.GetAssetId(),
			}, muxDeps...))
			deps = append(deps, name)
		}
	}
	tasks = append(tasks, newTask(job, taskPackage, &v1.TaskSpec{
		Kind:                  v1.TaskKind_TASK_KIND_PACKAGE,
		SegmentSeconds:        seg,
		SourceDurationSeconds: dur,
		Outputs:               outputs,
		AssetId:               job.GetAssetId(),
	}, deps...))
	sortTasks(tasks)
	return tasks
}

// dropReplaced removes the video tracks of the replaced renditions from
// kept. A replaced rendition with a mux output (MP4 download, MPEG-TS) is
// refused: those paths do not change with the track directory, so they
// could not be swapped atomically with the manifests.
func dropReplaced(kept []*v1.Task, replace map[string]bool) ([]*v1.Task, error) {
	var out []*v1.Task
	for _, t := range kept {
		name := t.GetSpec().GetRendition().GetName()
		switch t.GetSpec().GetKind() {
		case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
			if replace[name] {
				continue
			}
		case v1.TaskKind_TASK_KIND_MUX:
			if replace[name] {
				return nil, fmt.Errorf("rendition %q has MP4 or MPEG-TS outputs, whose paths a replace cannot swap atomically: %w", name, ErrInvalid)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// keptRenditions lists the rendition of every kept video track by name.
func keptRenditions(kept []*v1.Task) map[string]*v1.Rendition {
	out := map[string]*v1.Rendition{}
	for _, t := range kept {
		if t.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
			out[t.GetSpec().GetRendition().GetName()] = t.GetSpec().GetRendition()
		}
	}
	return out
}

// sortedNames returns m's keys in order, for messages.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
