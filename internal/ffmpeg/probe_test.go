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

func TestParseProbeErrors(t *testing.T) {
	tests := []struct {
		fixture string
		want    error
	}{
		{"probe_audio_only.json", ErrNoVideo},
		// An MP3 whose only "video" is cover art.
		{"probe_cover_art.json", ErrNoVideo},
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
