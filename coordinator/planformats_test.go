package coordinator

import (
	"slices"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestPlanDeinterlace: every video task and the thumbnails task of an
// interlaced source carry the parity to deinterlace with; a progressive
// source's carry none.
func TestPlanDeinterlace(t *testing.T) {
	for order, want := range map[string]string{"tt": "tff", "bb": "bff", "progressive": "", "": ""} {
		probe := &v1.ProbeResult{HasVideo: true, Width: 720, Height: 576, FrameRate: 25, DurationSeconds: 12, FieldOrder: order}
		job := testJob()
		job.Encode.Outputs.Thumbnails = nil // default: on
		tasks, err := planEncodes(job, probe)
		if err != nil {
			t.Fatal(err)
		}
		var videos, thumbs int
		for _, tk := range tasks {
			switch tk.GetSpec().GetKind() {
			case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
				videos++
			case v1.TaskKind_TASK_KIND_THUMBNAILS:
				thumbs++
			default:
				continue
			}
			if got := tk.GetSpec().GetDeinterlace(); got != want {
				t.Errorf("field order %q: %s deinterlace %q, want %q", order, tk.GetName(), got, want)
			}
		}
		if videos == 0 || thumbs != 1 {
			t.Fatalf("field order %q: %d video tasks, %d thumbnails tasks", order, videos, thumbs)
		}
	}
}

// TestPlanAudioSurround: each source track becomes a stereo AAC track;
// with keep_surround, tracks of six or more channels also become a 5.1
// track after all stereo ones, never beyond maxAudioTracks.
func TestPlanAudioSurround(t *testing.T) {
	probe := &v1.ProbeResult{HasAudio: true, AudioStreams: []*v1.AudioStream{
		{Index: 0, Channels: 6, Language: "en"},
		{Index: 1, Channels: 1, Language: "fr"},
		{Index: 2, Channels: 8, Language: "de"},
	}}
	type track struct {
		name     string
		stream   int32
		channels int32
		bitrate  int64
		lang     string
	}
	got := func(surround bool) []track {
		var out []track
		for _, a := range planAudio(probe, 0, surround) {
			out = append(out, track{a.GetName(), a.GetStreamIndex(), a.GetChannels(), a.GetBitrate(), a.GetLanguage()})
		}
		return out
	}
	stereo := []track{{"audio", 0, 2, 128_000, "en"}, {"audio_2", 1, 2, 128_000, "fr"}, {"audio_3", 2, 2, 128_000, "de"}}
	if g := got(false); !slices.Equal(g, stereo) {
		t.Errorf("without surround: %+v", g)
	}
	want := append(append([]track(nil), stereo...), track{"audio_51", 0, 6, 384_000, "en"}, track{"audio_3_51", 2, 6, 384_000, "de"})
	if g := got(true); !slices.Equal(g, want) {
		t.Errorf("with surround: %+v, want %+v", g, want)
	}
	// The limit counts the 5.1 tracks too.
	probe.AudioStreams = nil
	for i := range maxAudioTracks {
		probe.AudioStreams = append(probe.AudioStreams, &v1.AudioStream{Index: int32(i), Channels: 6})
	}
	if g := planAudio(probe, 0, true); len(g) != maxAudioTracks || g[len(g)-1].GetChannels() != 2 {
		t.Errorf("%d tracks, last %v", len(g), g[len(g)-1])
	}
}
