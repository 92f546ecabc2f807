package ffmpeg

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseProbe(t *testing.T) {
	tests := []struct {
		fixture       string
		width, height int32
		fps, duration float64
		videoCodec    string
		hasAudio      bool
		audioCodec    string
		format        string
	}{
		// Captured with ffprobe 5.1 from clips made with lavfi testsrc2/sine.
		{"probe_av.json", 320, 180, 25, 3, "h264", true, "aac", "mov,mp4,m4a,3gp,3g2,mj2"},
		// Same clip with a 90° display matrix: display size is swapped.
		{"probe_rotated.json", 180, 320, 25, 3, "h264", true, "aac", "mov,mp4,m4a,3gp,3g2,mj2"},
		// 720x480 with SAR 32:27 displays as 853x480.
		{"probe_anamorphic.json", 853, 480, 25, 3, "h264", false, "", "mov,mp4,m4a,3gp,3g2,mj2"},
		// Raw H.264 has no container duration.
		{"probe_raw_h264.json", 320, 180, 25, 0, "h264", false, "", "h264"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			res, err := ParseProbe(readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if !res.GetHasVideo() || res.GetWidth() != tt.width || res.GetHeight() != tt.height {
				t.Errorf("video %v %dx%d, want %dx%d", res.GetHasVideo(), res.GetWidth(), res.GetHeight(), tt.width, tt.height)
			}
			if math.Abs(res.GetFrameRate()-tt.fps) > 1e-9 || math.Abs(res.GetDurationSeconds()-tt.duration) > 1e-6 {
				t.Errorf("fps %v duration %v, want %v %v", res.GetFrameRate(), res.GetDurationSeconds(), tt.fps, tt.duration)
			}
			if res.GetVideoCodec() != tt.videoCodec || res.GetHasAudio() != tt.hasAudio || res.GetAudioCodec() != tt.audioCodec {
				t.Errorf("codecs %q %v %q", res.GetVideoCodec(), res.GetHasAudio(), res.GetAudioCodec())
			}
			if res.GetFormatName() != tt.format {
				t.Errorf("format %q, want %q", res.GetFormatName(), tt.format)
			}
		})
	}
}

// TestParseProbeAudioOnly: audio-only sources (also an MP3 whose only
// "video" is cover art) are valid and make audio-only assets.
func TestParseProbeAudioOnly(t *testing.T) {
	for _, f := range []string{"probe_audio_only.json", "probe_cover_art.json"} {
		res, err := ParseProbe(readFixture(t, f))
		if err != nil || res.GetHasVideo() || !res.GetHasAudio() || len(res.GetAudioStreams()) != 1 || res.GetAudioStreams()[0].GetIndex() != 0 {
			t.Fatalf("%s: %v %v", f, res, err)
		}
	}
}

func TestParseProbeStreams(t *testing.T) {
	out := `{"streams":[
		{"index":0,"codec_type":"video","codec_name":"h264","width":320,"height":180,"pix_fmt":"yuv420p10le","avg_frame_rate":"25/1"},
		{"index":1,"codec_type":"audio","codec_name":"aac","channels":2,"sample_rate":"48000","tags":{"language":"eng"}},
		{"index":2,"codec_type":"audio","codec_name":"ac3","channels":6,"sample_rate":"44100","tags":{"language":"fra","title":"VF"}},
		{"index":3,"codec_type":"subtitle","codec_name":"subrip","tags":{"language":"und"}},
		{"index":4,"codec_type":"subtitle","codec_name":"hdmv_pgs_subtitle","tags":{"language":"deu"}}],
		"format":{"format_name":"matroska,webm","duration":"5.0","size":"12345"}}`
	res, err := ParseProbe([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.GetPixelFormat() != "yuv420p10le" || res.GetSizeBytes() != 12345 {
		t.Fatalf("pix_fmt %q size %d", res.GetPixelFormat(), res.GetSizeBytes())
	}
	a := res.GetAudioStreams()
	if len(a) != 2 || a[0].GetIndex() != 0 || a[0].GetLanguage() != "eng" || a[1].GetIndex() != 1 ||
		a[1].GetLanguage() != "fra" || a[1].GetChannels() != 6 || a[1].GetSampleRate() != 44100 || a[1].GetTitle() != "VF" {
		t.Fatalf("audio streams %v", a)
	}
	s := res.GetSubtitleStreams()
	if len(s) != 2 || s[0].GetIndex() != 3 || s[0].GetLanguage() != "" || s[1].GetIndex() != 4 || s[1].GetCodec() != "hdmv_pgs_subtitle" {
		t.Fatalf("subtitle streams %v", s)
	}
}

func TestParseProbeErrors(t *testing.T) {
	tests := []struct {
		fixture string
		want    error
	}{
		// What ffprobe prints on stdout for a text file (it exits 1).
		{"probe_not_media.json", ErrInvalidMedia},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			_, err := ParseProbe(readFixture(t, tt.fixture))
			if !errors.Is(err, tt.want) || !IsPermanent(err) {
				t.Fatalf("err = %v, want %v (permanent)", err, tt.want)
			}
		})
	}
	subsOnly := `{"streams":[{"index":0,"codec_type":"subtitle","codec_name":"subrip"}],"format":{"format_name":"srt","duration":"5.0"}}`
	if _, err := ParseProbe([]byte(subsOnly)); !errors.Is(err, ErrNoVideo) || !IsPermanent(err) {
		t.Fatalf("subtitles only: err = %v, want no video stream (permanent)", err)
	}
	if _, err := ParseProbe([]byte("not json")); err == nil || IsPermanent(err) {
		t.Fatalf("garbage output: err = %v, want a non-permanent error", err)
	}
}

func TestParseProbeFallbacks(t *testing.T) {
	// avg_frame_rate 0/0 falls back to r_frame_rate; a missing format
	// duration falls back to the longest stream; the pre-5.0 rotate tag
	// is honoured.
	data := []byte(`{"streams":[
		{"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
		 "avg_frame_rate":"0/0","r_frame_rate":"30000/1001","duration":"9.5",
		 "tags":{"rotate":"-90"}},
		{"codec_type":"audio","codec_name":"opus","duration":"10.25"}],
		"format":{"format_name":"matroska,webm","duration":"N/A"}}`)
	res, err := ParseProbe(data)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.GetFrameRate()-30000.0/1001) > 1e-9 {
		t.Errorf("fps %v", res.GetFrameRate())
	}
	if res.GetDurationSeconds() != 10.25 {
		t.Errorf("duration %v", res.GetDurationSeconds())
	}
	if res.GetWidth() != 1080 || res.GetHeight() != 1920 {
		t.Errorf("size %dx%d", res.GetWidth(), res.GetHeight())
	}
}

func TestErrorHelpers(t *testing.T) {
	if IsPermanent(ErrFailed) || IsPermanent(ErrBadPlaylist) || IsPermanent(nil) {
		t.Error("transient errors reported permanent")
	}
	line, invalid := reason([]string{"x.mp4: Invalid data found when processing input"}, true)
	if !invalid || cleanLine(line, "x.mp4") != "invalid data found when processing input" {
		t.Errorf("reason = %q %v", line, invalid)
	}
	if got := cleanLine("[http @ 0x55d0c0a1b2c0] HTTP error 503 Service Unavailable", ""); got != "HTTP error 503 Service Unavailable" {
		t.Errorf("cleanLine = %q", got)
	}
	if !transient([]string{"[http @ 0x1] HTTP error 503", "x: Server returned 5XX Server Error reply"}) || transient([]string{"x: Server returned 404 Not Found"}) {
		t.Error("transient classification")
	}
	in := "https://user:pw@cdn.example/a.mp4?X-Amz-Signature=secret"
	if got := cleanLine(in+": Server returned 403 Forbidden", in); got != "server returned 403 Forbidden" {
		t.Errorf("cleanLine = %q", got)
	}
	if got := redactInput(in); got != "https://cdn.example/a.mp4?REDACTED" {
		t.Errorf("redactInput = %q", got)
	}
}

// TestParseProbeFieldOrder: the field order comes from the first video
// stream; ffprobe's "unknown" becomes empty (to be measured with idet).
func TestParseProbeFieldOrder(t *testing.T) {
	for order, want := range map[string]string{"tt": "tt", "bb": "bb", "progressive": "progressive", "unknown": "", "": ""} {
		doc := `{"streams":[{"codec_type":"video","codec_name":"mpeg2video","width":720,"height":576,"field_order":"` + order + `"},` +
			`{"codec_type":"video","codec_name":"h264","width":320,"height":180,"field_order":"bb"}],"format":{"duration":"2"}}`
		res, err := ParseProbe([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if res.GetFieldOrder() != want {
			t.Errorf("field_order %q parsed as %q, want %q", order, res.GetFieldOrder(), want)
		}
	}
}
