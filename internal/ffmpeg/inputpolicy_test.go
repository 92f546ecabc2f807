package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInputOptions(t *testing.T) {
	if got := InputOptions("file", ""); !slices.Equal(got, []string{"-protocol_whitelist", "file", "-format_whitelist", MediaFormats}) {
		t.Errorf("InputOptions(file, \"\") = %q", got)
	}
	if got := InputOptions("", "mov"); !slices.Equal(got, []string{"-format_whitelist", "mov"}) {
		t.Errorf("InputOptions(\"\", mov) = %q", got)
	}
	for _, f := range strings.Split(MediaFormats, ",") {
		switch f {
		case "hls", "dash", "concat", "ffconcat", "image2", "lavfi", "tee":
			t.Errorf("MediaFormats holds %q, a demuxer that opens other inputs", f)
		}
	}
}

// badMedia writes the malformed inputs the classification must recognise
// and returns their paths by name.
func badMedia(t *testing.T, bin, dir, clip string) map[string]string {
	t.Helper()
	files := map[string]string{}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	run := func(args ...string) {
		if b, err := exec.Command(bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
		}
	}
	write("text", []byte(strings.Repeat("hello, not a video\n", 50)))
	write("hls", []byte("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"))
	write("concat", []byte("ffconcat version 1.0\nfile /etc/passwd\n"))
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	write("truncated", data[:len(data)*2/5]) // the moov atom is at the end
	mkv := filepath.Join(dir, "clip.mkv")
	run("-i", clip, "-c", "copy", mkv)
	if data, err = os.ReadFile(mkv); err != nil {
		t.Fatal(err)
	}
	write("truncated-mkv", data[:len(data)/3])
	if !bytes.Contains(data, []byte("V_MPEG4/ISO/AVC")) {
		t.Fatal("no H.264 codec id in the mkv")
	}
	write("unknown-codec", bytes.Replace(data, []byte("V_MPEG4/ISO/AVC"), []byte("V_VODFLEET/NONE"), 1))
	srt := filepath.Join(dir, "subs.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:01,000\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("-i", srt, "-c:s", "srt", "-f", "matroska", filepath.Join(dir, "subs-only"))
	files["subs-only"] = filepath.Join(dir, "subs-only")
	return files
}

func TestProbeClassifiesBadInput(t *testing.T) {
	ffmpegBin, ffprobeBin := tools(t)
	dir := t.TempDir()
	files := badMedia(t, ffmpegBin, dir, makeClip(t, dir))
	tests := []struct {
		name string
		want error
		text string
	}{
		{"text", ErrNotMedia, "not a media file: ffprobe: invalid data found when processing input"},
		{"hls", ErrNotMedia, "not a media file: ffprobe: hls input is not an accepted media format"},
		{"concat", ErrNotMedia, "not a media file: ffprobe: concat input is not an accepted media format"},
		{"truncated", ErrTruncated, "source file is truncated: ffprobe: moov atom not found"},
		{"unknown-codec", ErrUnsupportedCodec, "unsupported codec: ffprobe: video stream #0 uses a codec ffmpeg cannot decode"},
		{"subs-only", ErrNoVideo, "no video stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Probe(ctx, ffprobeBin, files[tt.name], ProbeOptions{Whitelist: "file"})
			if !errors.Is(err, tt.want) || !IsPermanent(err) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
			if strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "root:") {
				t.Errorf("error leaks a path or file content: %v", err)
			}
		})
	}
}

func TestRunClassifiesBadInput(t *testing.T) {
	ffmpegBin, _ := tools(t)
	dir := t.TempDir()
	files := badMedia(t, ffmpegBin, dir, makeClip(t, dir))
	tests := []struct {
		name string
		want error
	}{
		{"text", ErrNotMedia},
		{"hls", ErrNotMedia},
		{"truncated", ErrTruncated},
		// ffprobe reads too little of it to notice; ffmpeg notices but
		// exits 0.
		{"truncated-mkv", ErrTruncated},
		{"unknown-codec", ErrUnsupportedCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"-nostdin", "-v", "error"}, InputOptions("file", "")...)
			args = append(args, "-i", files[tt.name], "-map", "0:v:0", "-f", "null", "-")
			err := Run(ctx, testLogger(t), ffmpegBin, args, nil)
			if !errors.Is(err, tt.want) || !IsPermanent(err) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// A healthy file still passes the whitelist.
	args := append([]string{"-nostdin", "-v", "error"}, InputOptions("file", "")...)
	args = append(args, "-i", makeClip(t, dir), "-f", "null", "-")
	if err := Run(context.Background(), testLogger(t), ffmpegBin, args, nil); err != nil {
		t.Fatalf("clip refused: %v", err)
	}
}

func TestRunReturnsContextCause(t *testing.T) {
	cause := errors.New("task timed out after 100ms")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, cause)
	defer cancel()
	start := time.Now()
	err := Run(ctx, testLogger(t), "sleep", []string{"10"}, nil)
	if !errors.Is(err, cause) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}
