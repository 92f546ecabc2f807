package coordinator

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestPlanChunks(t *testing.T) {
	tests := []struct {
		dur, seg, length float64
		renditions       int
		want             string // start/duration/first per chunk
	}{
		{12, 4, 60, 3, "unchunked"},
		{12, 4, -1, 3, "unchunked"},
		{0, 4, 60, 3, "unchunked"},
		{20, 4, 8, 1, "0/8/1 8/8/3 16/0/5"},
		// 9 s: chunk lengths round down to the segment (7 -> 6) ...
		{20, 2, 7, 1, "0/6/1 6/6/4 12/6/7 18/0/10"},
		// ... and a last piece under a quarter chunk joins the one before.
		{16.5, 4, 8, 1, "0/8/1 8/0/3"},
		// Too many chunks for maxChunkTasks: longer chunks instead.
		{3600, 4, 60, 4, "chunks=8"},
	}
	for _, tt := range tests {
		chunks := planChunks(tt.dur, tt.seg, tt.length, tt.renditions)
		got := ""
		switch {
		case len(chunks) == 1 && chunks[0] == nil:
			got = "unchunked"
		case tt.want[:6] == "chunks":
			got = fmt.Sprintf("chunks=%d", len(chunks))
		default:
			for i, c := range chunks {
				if c.GetIndex() != int32(i) || c.GetCount() != int32(len(chunks)) {
					t.Errorf("chunk %d: index %d count %d", i, c.GetIndex(), c.GetCount())
				}
				if got != "" {
					got += " "
				}
				got += fmt.Sprintf("%g/%g/%d", c.GetStartSeconds(), c.GetDurationSeconds(), c.GetFirstSegment())
			}
		}
		if got != tt.want {
			t.Errorf("planChunks(%g, %g, %g, %d) = %s, want %s", tt.dur, tt.seg, tt.length, tt.renditions, got, tt.want)
		}
	}
}

func TestPlanChunkedJob(t *testing.T) {
	job := testJob()
	job.Encode.ChunkSeconds = 8
	tasks, err := planEncodes(job, &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 640, Height: 360, FrameRate: 30, DurationSeconds: 20})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range tasks {
		names = append(names, tk.GetName())
	}
	want := "[video-360p-c01 video-360p-c02 video-360p-c03 audio package]"
	if fmt.Sprint(names) != want {
		t.Fatalf("tasks %v, want %s", names, want)
	}
	for _, tk := range tasks[:3] {
		if trackDir(tk) != "v360p" {
			t.Errorf("%s publishes to %q", tk.GetName(), trackDir(tk))
		}
	}
	if deps := tasks[4].GetDependsOn(); len(deps) != 4 {
		t.Fatalf("package depends on %v", deps)
	}
}

// TestMergeChunks: the package sees one track per rendition, segments in
// timeline order whatever order the chunks finished in.
func TestMergeChunks(t *testing.T) {
	jr := &jobRecord{job: testJob(), tasks: map[string]*taskRecord{}}
	chunk := func(name string, idx int32, segs ...string) {
		var ss []*v1.Segment
		for _, s := range segs {
			ss = append(ss, &v1.Segment{Name: s, DurationSeconds: 4, Size: 1000})
		}
		jr.tasks[name] = &taskRecord{task: &v1.Task{Name: name, Spec: &v1.TaskSpec{Chunk: &v1.Chunk{Index: idx}},
			Result: &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{Dir: "v360p", InitName: "init.mp4", Segments: ss, PeakBitrate: 2000 * int64(idx+1), Width: 640}}}}}
	}
	chunk("video-360p-c02", 1, "seg_00003.m4s", "seg_00004.m4s")
	chunk("video-360p-c01", 0, "seg_00001.m4s", "seg_00002.m4s")
	jr.tasks["audio"] = &taskRecord{task: &v1.Task{Name: "audio", Result: &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{Dir: "audio", SampleRate: 48000}}}}}
	jr.tasks["thumbnails"] = &taskRecord{task: &v1.Task{Name: "thumbnails", Result: &v1.TaskResult{Result: &v1.TaskResult_Thumbnails{Thumbnails: &v1.ThumbnailOutput{Vtt: "thumbs/thumbnails.vtt"}}}}}
	pkg := &v1.Task{DependsOn: []string{"video-360p-c02", "video-360p-c01", "audio", "thumbnails"}}
	tracks, extras := depOutputs(jr, pkg)
	if len(tracks) != 2 || len(extras) != 1 || extras[0].GetThumbnails().GetVtt() != "thumbs/thumbnails.vtt" {
		t.Fatalf("tracks %v extras %v", tracks, extras)
	}
	v := tracks[0]
	var names []string
	for _, s := range v.GetSegments() {
		names = append(names, s.GetName())
	}
	if fmt.Sprint(names) != "[seg_00001.m4s seg_00002.m4s seg_00003.m4s seg_00004.m4s]" || v.GetPeakBitrate() != 4000 || v.GetAverageBitrate() != 2000 {
		t.Fatalf("merged %v (peak %d avg %d)", names, v.GetPeakBitrate(), v.GetAverageBitrate())
	}
	// The stored chunk results are not modified.
	if n := len(jr.tasks["video-360p-c01"].task.GetResult().GetTrack().GetSegments()); n != 2 {
		t.Fatalf("chunk result changed: %d segments", n)
	}
}

func TestPlanExtrasAndCodecs(t *testing.T) {
	job := testJob()
	job.Encode = &v1.EncodeOptions{
		Codec:      v1.VideoCodec_VIDEO_CODEC_HEVC,
		Renditions: []*v1.RenditionRequest{{Height: 360}, {Height: 240, Codec: v1.VideoCodec_VIDEO_CODEC_AV1, Name: "small"}, {Height: 1080}},
		Outputs:    &v1.Outputs{Mp4: true, HlsSegments: v1.SegmentFormat_SEGMENT_FORMAT_TS},
	}
	probe := &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 1280, Height: 720, FrameRate: 50, DurationSeconds: 10,
		AudioStreams:    []*v1.AudioStream{{Index: 0, Language: "eng"}, {Index: 1, Language: "fra"}},
		SubtitleStreams: []*v1.SubtitleStream{{Index: 3, Codec: "subrip", Language: "deu"}}}
	tasks, err := planEncodes(job, probe)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*v1.Task{}
	var names []string
	for _, tk := range tasks {
		byName[tk.GetName()] = tk
		names = append(names, tk.GetName())
	}
	want := "[video-360p video-small audio audio-2 thumbnails subtitles mux-360p mux-small package]"
	if fmt.Sprint(names) != want {
		t.Fatalf("tasks %v, want %s", names, want)
	}
	r := byName["video-360p"].GetSpec().GetRendition()
	if r.GetWidth() != 640 || r.GetCodec() != v1.VideoCodec_VIDEO_CODEC_HEVC || byName["video-360p"].GetSpec().GetRequires()["codec.hevc"] != "true" {
		t.Fatalf("360p %v requires %v", r, byName["video-360p"].GetSpec().GetRequires())
	}
	if byName["video-small"].GetSpec().GetRequires()["codec.av1"] != "true" || byName["video-small"].GetSpec().GetRendition().GetWidth() != 426 {
		t.Fatalf("small: %v", byName["video-small"].GetSpec())
	}
	a2 := byName["audio-2"].GetSpec().GetAudio()
	if a2.GetStreamIndex() != 1 || a2.GetLanguage() != "fra" || trackDir(byName["audio-2"]) != "audio_2" {
		t.Fatalf("audio-2 %v dir %q", a2, trackDir(byName["audio-2"]))
	}
	mux := byName["mux-360p"]
	if !mux.GetSpec().GetMux().GetMp4() || !mux.GetSpec().GetMux().GetTs() || fmt.Sprint(mux.GetDependsOn()) != "[video-360p audio]" {
		t.Fatalf("mux %v deps %v", mux.GetSpec().GetMux(), mux.GetDependsOn())
	}
	if s := byName["subtitles"].GetSpec().GetSubtitles(); len(s) != 1 || s[0].GetIndex() != 3 {
		t.Fatalf("subtitles %v", s)
	}
	if len(byName["package"].GetDependsOn()) != 8 || byName["package"].GetSpec().GetOutputs().GetHlsSegments() != v1.SegmentFormat_SEGMENT_FORMAT_TS {
		t.Fatalf("package %v", byName["package"])
	}
	// An audio-only source makes an audio-only asset.
	tasks, err = planEncodes(testJob(), &v1.ProbeResult{HasAudio: true, DurationSeconds: 5})
	if err != nil || len(tasks) != 2 || tasks[0].GetName() != "audio" {
		t.Fatalf("audio only: %v %v", tasks, err)
	}
}

func TestValidateEncode(t *testing.T) {
	bad := map[string]*v1.EncodeOptions{
		"too tall":       {Renditions: []*v1.RenditionRequest{{Height: 9000}}},
		"no height":      {Renditions: []*v1.RenditionRequest{{Width: 640}}},
		"bad name":       {Renditions: []*v1.RenditionRequest{{Height: 360, Name: "../x"}}},
		"max below rate": {Renditions: []*v1.RenditionRequest{{Height: 360, VideoBitrate: 2e6, MaxBitrate: 1e6}}},
		"codec":          {Codec: v1.VideoCodec(42)},
		"fps":            {MaxFrameRate: 120},
		"chunk":          {ChunkSeconds: 0.5},
		"no output":      {Outputs: &v1.Outputs{Hls: proto.Bool(false), Dash: proto.Bool(false)}},
		"nine renditions": {Renditions: []*v1.RenditionRequest{{Height: 1}, {Height: 2}, {Height: 3}, {Height: 4}, {Height: 5},
			{Height: 6}, {Height: 7}, {Height: 8}, {Height: 9}}},
	}
	for name, o := range bad {
		if err := validateEncode(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := &v1.EncodeOptions{Renditions: []*v1.RenditionRequest{{Height: 720, Name: "hd", VideoBitrate: 3e6}}, ChunkSeconds: -1,
		Outputs: &v1.Outputs{Hls: proto.Bool(false), Mp4: true}}
	if err := validateEncode(good); err != nil {
		t.Fatal(err)
	}
}
