package ffmpeg

import (
	"slices"
	"strings"
	"testing"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// argAfter returns the value following flag in args, failing when absent.
func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("%s missing from %q", flag, args)
	}
	return args[i+1]
}

func TestVideoArgs(t *testing.T) {
	args := VideoArgs(VideoJob{
		Input: "https://cdn.example/in.mp4", Whitelist: "http,https,tcp,tls",
		Rendition: &vodfleetv1.Rendition{Name: "720p", Width: 1280, Height: 720,
			VideoBitrate: 3_000_000, MaxBitrate: 4_500_000, Profile: "high", Level: "4.0"},
		FrameRate: 30000.0 / 1001, SegmentSeconds: 4, OutDir: "/tmp/out%d",
	})
	for flag, want := range map[string]string{
		"-protocol_whitelist":   "http,https,tcp,tls",
		"-i":                    "https://cdn.example/in.mp4",
		"-vf":                   "scale=1280:720,setsar=1",
		"-r":                    "30000/1001",
		"-g":                    "120",
		"-keyint_min":           "120",
		"-b:v":                  "3000000",
		"-maxrate":              "4500000",
		"-bufsize":              "9000000",
		"-profile:v":            "high",
		"-level:v":              "4.0",
		"-sc_threshold":         "0",
		"-force_key_frames":     "expr:gte(t,n_forced*4)",
		"-hls_time":             "4",
		"-hls_segment_type":     "fmp4",
		"-start_number":         "1",
		"-hls_segment_filename": "/tmp/out%%d/seg_%05d.m4s",
		"-progress":             "pipe:1",
	} {
		if got := argAfter(t, args, flag); got != want {
			t.Errorf("%s = %q, want %q", flag, got, want)
		}
	}
	// The playlist is the first output; the discarded copy output follows.
	if i := slices.Index(args, "/tmp/out%d/index.m3u8"); i < 0 || args[len(args)-1] != "-" {
		t.Errorf("outputs wrong: %q", args)
	}
	// Input options come before -i.
	if slices.Index(args, "-protocol_whitelist") > slices.Index(args, "-i") {
		t.Error("-protocol_whitelist after -i")
	}
}

func TestVideoArgsOptional(t *testing.T) {
	args := VideoArgs(VideoJob{Input: "in.mp4", Rendition: &vodfleetv1.Rendition{Width: 320, Height: 180},
		SegmentSeconds: 2.5, OutDir: "rel:dir"})
	joined := strings.Join(args, " ")
	for _, absent := range []string{"-r ", "-g ", "-maxrate", "-profile:v", "-level:v", "-protocol_whitelist"} {
		if strings.Contains(joined, absent) {
			t.Errorf("unexpected %q in %q", absent, joined)
		}
	}
	if !slices.Contains(args, "./rel:dir/index.m3u8") {
		t.Errorf("relative dir not protected: %q", args)
	}
	if argAfter(t, args, "-force_key_frames") != "expr:gte(t,n_forced*2.5)" {
		t.Error("fractional segment duration")
	}
}

func TestAudioArgs(t *testing.T) {
	args := AudioArgs(AudioJob{Input: "/src/in.mov", Whitelist: "file",
		Audio:          &vodfleetv1.AudioSpec{Bitrate: 128000, Channels: 2, SampleRate: 48000},
		SegmentSeconds: 4, OutDir: "/out"})
	for flag, want := range map[string]string{
		"-map": "0:a:0", "-c:a": "aac", "-b:a": "128000", "-ac": "2", "-ar": "48000",
		"-hls_time": "4", "-hls_fmp4_init_filename": "init.mp4",
	} {
		if got := argAfter(t, args, flag); got != want {
			t.Errorf("%s = %q, want %q", flag, got, want)
		}
	}
	if !slices.Contains(args, "/out/index.m3u8") || slices.Contains(args, "-c:v") {
		t.Errorf("args %q", args)
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[float64]string{
		25: "25", 30000.0 / 1001: "30000/1001", 29.97: "30000/1001", 23.976: "24000/1001",
		59.94: "60000/1001", 12.5: "12.5", 24: "24",
	} {
		if got := rate(in); got != want {
			t.Errorf("rate(%v) = %q, want %q", in, got, want)
		}
	}
}
