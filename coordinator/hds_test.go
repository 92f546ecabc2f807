package coordinator

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestPlanHDS: HDS asks for a mux task per H.264 rendition only (FLV
// carries no HEVC), folded into the MP4 mux when both are asked for, and
// nothing when it is off (the default).
func TestPlanHDS(t *testing.T) {
	probe := &v1.ProbeResult{HasVideo: true, HasAudio: true, Width: 1280, Height: 720, FrameRate: 30, DurationSeconds: 12}
	job := testJob()
	job.Encode = &v1.EncodeOptions{
		Renditions: []*v1.RenditionRequest{{Height: 360}, {Height: 240, Codec: v1.VideoCodec_VIDEO_CODEC_HEVC, Name: "small"}},
		Outputs:    &v1.Outputs{Hds: true, Thumbnails: proto.Bool(false)},
	}
	tasks, err := planEncodes(job, probe)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]*v1.Task{}
	for _, tk := range tasks {
		names = append(names, tk.GetName())
		byName[tk.GetName()] = tk
	}
	if want := "[video-360p video-small audio mux-360p package]"; fmt.Sprint(names) != want {
		t.Fatalf("tasks %v, want %s", names, want)
	}
	mux := byName["mux-360p"]
	if m := mux.GetSpec().GetMux(); !m.GetHds() || m.GetMp4() || m.GetTs() || fmt.Sprint(mux.GetDependsOn()) != "[video-360p audio]" {
		t.Fatalf("mux %v deps %v", m, mux.GetDependsOn())
	}
	if !byName["package"].GetSpec().GetOutputs().GetHds() {
		t.Fatal("package task does not know HDS is on")
	}

	// With MP4 too, the HEVC rendition's mux makes the MP4 only.
	job.Encode.Outputs.Mp4 = true
	tasks, _ = planEncodes(job, probe)
	for _, tk := range tasks {
		if tk.GetName() == "mux-small" && (tk.GetSpec().GetMux().GetHds() || !tk.GetSpec().GetMux().GetMp4()) {
			t.Fatalf("mux-small %v", tk.GetSpec().GetMux())
		}
	}

	// Off by default: no mux task at all.
	tasks, _ = planEncodes(testJob(), probe)
	for _, tk := range tasks {
		if tk.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_MUX {
			t.Fatalf("mux task %s without MP4, TS or HDS", tk.GetName())
		}
	}
	if resolveOutputs(nil).GetHds() {
		t.Fatal("HDS on by default")
	}
}

func TestValidateHDS(t *testing.T) {
	off := &v1.Outputs{Hls: proto.Bool(false), Dash: proto.Bool(false), Hds: true}
	if err := validateEncode(&v1.EncodeOptions{Outputs: off}); err != nil {
		t.Fatalf("HDS alone: %v", err)
	}
	mixed := &v1.EncodeOptions{Codec: v1.VideoCodec_VIDEO_CODEC_HEVC, Outputs: off,
		Renditions: []*v1.RenditionRequest{{Height: 360}, {Height: 240, Codec: v1.VideoCodec_VIDEO_CODEC_H264}}}
	if err := validateEncode(mixed); err != nil {
		t.Fatalf("one H.264 rendition: %v", err)
	}
	for name, o := range map[string]*v1.EncodeOptions{
		"hevc ladder": {Codec: v1.VideoCodec_VIDEO_CODEC_HEVC, Outputs: &v1.Outputs{Hds: true}},
		"av1 renditions": {Outputs: &v1.Outputs{Hds: true},
			Renditions: []*v1.RenditionRequest{{Height: 360, Codec: v1.VideoCodec_VIDEO_CODEC_AV1}}},
	} {
		if err := validateEncode(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
