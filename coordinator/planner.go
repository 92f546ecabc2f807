package coordinator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Task names inside a job. Video tasks are "video-<rendition>", or
// "video-<rendition>-cNN" per chunk; audio tasks "audio", "audio-2", ...;
// mux tasks "mux-<rendition>".
const (
	taskProbe      = "probe"
	taskAudio      = "audio"
	taskPackage    = "package"
	taskThumbnails = "thumbnails"
	taskSubtitles  = "subtitles"
)

// Audio defaults: AAC stereo at 48 kHz; a kept 5.1 track
// (EncodeOptions.keep_surround) gets three times the stereo bitrate, at
// most maxSurroundBitrate.
const (
	defaultAudioBitrate   = 128_000
	maxAudioTracks        = 8
	surroundChannels      = 6
	surroundBitrateFactor = 3
	maxSurroundBitrate    = 768_000
)

// labelAAC is the label of agents whose ffmpeg has the AAC encoder; audio
// encodes require it. Video encodes require their codec's label (see
// codeclabels.go).
const labelAAC = "encoder.aac"

// newTask makes a PENDING task of job. The task requires the job's agent
// selector plus what its kind needs.
func newTask(job *v1.Job, name string, spec *v1.TaskSpec, deps ...string) *v1.Task {
	req := map[string]string{}
	for k, v := range job.GetAgentSelector() {
		req[k] = v
	}
	switch spec.GetKind() {
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
		req[ffmpeg.CodecLabel(spec.GetRendition().GetCodec())] = "true"
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

// planEncodes turns a probed job into its tasks: per rendition one video
// encode per chunk of the timeline, one audio encode per source audio
// track, thumbnails and subtitles when asked for, a mux per rendition
// when MP4, MPEG-TS or HDS output is asked for (HDS only for H.264
// renditions), the package task that
// depends on all of them, and a transfer task per destination after it. A source without video makes an audio-only
// asset.
func planEncodes(job *v1.Job, probe *v1.ProbeResult) ([]*v1.Task, error) {
	if !probe.GetHasVideo() && !probe.GetHasAudio() {
		return nil, fmt.Errorf("source has no video or audio stream: %w", ErrInvalid)
	}
	opts := job.GetEncode()
	outputs := resolveOutputs(opts.GetOutputs())
	seg, dur := job.GetSegmentSeconds(), probe.GetDurationSeconds()
	var tasks []*v1.Task
	var deps []string
	add := func(t *v1.Task) {
		tasks = append(tasks, t)
		deps = append(deps, t.GetName())
	}
	var renditions []*v1.Rendition
	videoTasks := map[string][]string{} // rendition -> its chunk task names
	if probe.GetHasVideo() {
		var err error
		renditions, err = planRenditions(job, probe)
		if err != nil {
			return nil, err
		}
		fps := outputFrameRate(probe.GetFrameRate(), opts.GetMaxFrameRate())
		deinterlace := ffmpeg.DeinterlaceParity(probe.GetFieldOrder())
		chunks := planChunks(dur, seg, chunkSeconds(opts), len(renditions))
		for _, r := range renditions {
			for _, c := range chunks {
				name := "video-" + r.GetName()
				if c != nil {
					name = fmt.Sprintf("%s-c%02d", name, c.GetIndex()+1)
				}
				add(newTask(job, name, &v1.TaskSpec{
					Kind:                  v1.TaskKind_TASK_KIND_ENCODE_VIDEO,
					Source:                job.GetSource(),
					Rendition:             r,
					SegmentSeconds:        seg,
					SourceDurationSeconds: dur,
					FrameRate:             fps,
					Chunk:                 c,
					Deinterlace:           deinterlace,
				}))
				videoTasks[r.GetName()] = append(videoTasks[r.GetName()], name)
			}
		}
	}
	audio := planAudio(probe, opts.GetAudioBitrate(), opts.GetKeepSurround())
	for i, a := range audio {
		name := taskAudio
		if i > 0 {
			name = fmt.Sprintf("%s-%d", taskAudio, i+1)
		}
		add(newTask(job, name, &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_ENCODE_AUDIO,
			Source:                job.GetSource(),
			Audio:                 a,
			SegmentSeconds:        seg,
			SourceDurationSeconds: dur,
		}))
	}
	if probe.GetHasVideo() && outputs.GetThumbnails() {
		add(newTask(job, taskThumbnails, &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_THUMBNAILS,
			Source:                job.GetSource(),
			Thumbnails:            &v1.ThumbnailSpec{PosterSeconds: min(dur/3, 10)},
			SourceDurationSeconds: dur,
			Deinterlace:           ffmpeg.DeinterlaceParity(probe.GetFieldOrder()),
		}))
	}
	if subs := probe.GetSubtitleStreams(); len(subs) > 0 && outputs.GetSubtitles() {
		add(newTask(job, taskSubtitles, &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_SUBTITLES,
			Source:                job.GetSource(),
			Subtitles:             subs,
			SourceDurationSeconds: dur,
		}))
	}
	ts := outputs.GetHls() && outputs.GetHlsSegments() == v1.SegmentFormat_SEGMENT_FORMAT_TS
	for _, r := range renditions {
		// HDS (FLV fragments) carries H.264 only; other renditions are
		// left out of it.
		hds := outputs.GetHds() && isH264(r.GetCodec())
		if !outputs.GetMp4() && !ts && !hds {
			continue
		}
		muxDeps := append([]string(nil), videoTasks[r.GetName()]...)
		if len(audio) > 0 {
			muxDeps = append(muxDeps, taskAudio)
		}
		add(newTask(job, "mux-"+r.GetName(), &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_MUX,
			Rendition:             r,
			Mux:                   &v1.MuxSpec{Mp4: outputs.GetMp4(), Ts: ts, Hds: hds},
			SegmentSeconds:        seg,
			SourceDurationSeconds: dur,
		}, muxDeps...))
	}
	tasks = append(tasks, newTask(job, taskPackage, &v1.TaskSpec{
		Kind:                  v1.TaskKind_TASK_KIND_PACKAGE,
		SegmentSeconds:        seg,
		SourceDurationSeconds: dur,
		Outputs:               outputs,
	}, deps...))
	tasks = append(tasks, planTransfers(job, dur, taskPackage)...)
	return tasks, nil
}

// planAudio is one AAC stereo track per source audio track (mono is
// upmixed, 5.1 and more downmixed), keeping each track's language; with
// surround, also a 5.1 AAC track (named after its stereo track plus
// "_51", never the default) for each source track with six or more
// channels. At most maxAudioTracks tracks in all, the stereo ones first.
func planAudio(probe *v1.ProbeResult, bitrate int64, surround bool) []*v1.AudioSpec {
	if !probe.GetHasAudio() {
		return nil
	}
	if bitrate <= 0 {
		bitrate = defaultAudioBitrate
	}
	streams := probe.GetAudioStreams()
	if len(streams) == 0 {
		streams = []*v1.AudioStream{{Index: 0}}
	}
	var out, wide []*v1.AudioSpec
	for i, s := range streams[:min(len(streams), maxAudioTracks)] {
		name := "audio"
		if i > 0 {
			name = fmt.Sprintf("audio_%d", i+1)
		}
		out = append(out, &v1.AudioSpec{
			Bitrate:     bitrate,
			Channels:    2,
			SampleRate:  48_000,
			StreamIndex: s.GetIndex(),
			Language:    s.GetLanguage(),
			Name:        name,
		})
		if surround && s.GetChannels() >= surroundChannels {
			wide = append(wide, &v1.AudioSpec{
				Bitrate:     min(surroundBitrateFactor*bitrate, maxSurroundBitrate),
				Channels:    surroundChannels,
				SampleRate:  48_000,
				StreamIndex: s.GetIndex(),
				Language:    s.GetLanguage(),
				Name:        name + "_51",
			})
		}
	}
	out = append(out, wide...)
	return out[:min(len(out), maxAudioTracks)]
}

// trackDir is where a task's outputs land inside the asset ("" is the
// asset root, for the tasks that name their paths themselves).
func trackDir(t *v1.Task) string {
	switch t.GetSpec().GetKind() {
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
		if d := t.GetSpec().GetTrackDir(); d != "" {
			return d // a replaced rendition's new directory (reencode.go)
		}
		return "v" + t.GetSpec().GetRendition().GetName()
	case v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		if n := t.GetSpec().GetAudio().GetName(); n != "" {
			return n
		}
		return "audio"
	default:
		return ""
	}
}

// sortTasks orders tasks as planned: probe, video encodes chunk by chunk
// (inside a chunk from the tallest rendition, so the renditions of one
// chunk are next to each other and can go to one agent together), audio,
// extras, package.
func sortTasks(tasks []*v1.Task) {
	sort.SliceStable(tasks, func(i, j int) bool { return taskLess(tasks[i], tasks[j]) })
}

// taskLess is plan order.
func taskLess(x, y *v1.Task) bool {
	a, b := x.GetSpec(), y.GetSpec()
	if ka, kb := kindOrder(a.GetKind()), kindOrder(b.GetKind()); ka != kb {
		return ka < kb
	}
	if ca, cb := a.GetChunk().GetIndex(), b.GetChunk().GetIndex(); ca != cb {
		return ca < cb
	}
	if ha, hb := a.GetRendition().GetHeight(), b.GetRendition().GetHeight(); ha != hb {
		return ha > hb
	}
	return x.GetName() < y.GetName()
}

// kindOrder puts the package task, then the transfer tasks, last
// whatever their enum values.
func kindOrder(k v1.TaskKind) int {
	switch k {
	case v1.TaskKind_TASK_KIND_PACKAGE:
		return 100
	case v1.TaskKind_TASK_KIND_TRANSFER:
		return 101
	}
	return int(k)
}

// jobProgress derives a job's progress from its tasks: probing is the
// first 5%, packaging the last 5%, the other tasks the rest weighted
// equally.
func jobProgress(job *v1.Job, tasks []*v1.Task) float64 {
	if job.GetState() == v1.JobState_JOB_STATE_SUCCEEDED {
		return 1
	}
	var probe, pkg, encSum float64
	var encN int
	if job.GetReencode() != nil {
		probe = 1 // a reencode uses the asset's probe
	}
	for _, t := range tasks {
		if isKept(t) {
			continue // a reencode job's kept track: no work of this job
		}
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

// isH264 reports whether c is H.264 (UNSPECIFIED means H.264).
func isH264(c v1.VideoCodec) bool {
	return c == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED || c == v1.VideoCodec_VIDEO_CODEC_H264
}

// renditionDirName is a rendition name usable as a path segment.
func renditionDirName(s string) bool {
	return s != "" && len(s) <= 32 && !strings.ContainsAny(s, "/\\. \x00") && !strings.HasPrefix(s, "-")
}

func isTerminal(s v1.JobState) bool {
	return s == v1.JobState_JOB_STATE_SUCCEEDED || s == v1.JobState_JOB_STATE_FAILED || s == v1.JobState_JOB_STATE_CANCELLED
}

func isTaskTerminal(s v1.TaskState) bool {
	return s == v1.TaskState_TASK_STATE_SUCCEEDED || s == v1.TaskState_TASK_STATE_FAILED || s == v1.TaskState_TASK_STATE_CANCELLED
}
