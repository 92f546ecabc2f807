package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func tools(t *testing.T) (string, string) { return testmedia.Tools(t) }

func testLogger(t *testing.T) hclog.Logger { return testmedia.Logger(t, hclog.Debug) }

// makeClip writes a 3 s 320x180 25 fps H.264 + AAC clip.
func makeClip(t *testing.T, dir string) string {
	return testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
}

// encode runs args and returns the parsed playlist, checking progress.
func encode(t *testing.T, bin, dir string, args []string) (string, []*vodfleetv1.Segment) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var reports int
	var done bool
	if err := Run(ctx, testLogger(t), bin, args, func(p Progress) {
		reports++
		done = done || p.Done
	}); err != nil {
		t.Fatal(err)
	}
	if reports == 0 || !done {
		t.Errorf("progress: %d reports, done=%v", reports, done)
	}
	pl, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	initName, segs, err := ParseMediaPlaylist(pl)
	if err != nil {
		t.Fatalf("%v\n%s", err, pl)
	}
	return initName, segs
}

// checkTimeline asserts the segments exist, start at zero and are
// contiguous in decode time, and that the track has no empty edit.
func checkTimeline(t *testing.T, dir, initName string, segs []*vodfleetv1.Segment) {
	t.Helper()
	init, err := os.ReadFile(filepath.Join(dir, initName))
	if err != nil {
		t.Fatal(err)
	}
	ts := float64(mdhdTimescale(init))
	if ts == 0 || hasEmptyEdit(init) {
		t.Fatalf("init: timescale %v, empty edit %v", ts, hasEmptyEdit(init))
	}
	var start float64
	for i, s := range segs {
		if want := "seg_" + strings.Repeat("0", 4) + strconv.Itoa(i+1) + ".m4s"; s.GetName() != want {
			t.Errorf("segment %d is %q, want %q", i, s.GetName(), want)
		}
		b, err := os.ReadFile(filepath.Join(dir, s.GetName()))
		if err != nil || len(b) == 0 {
			t.Fatalf("segment %s: %v", s.GetName(), err)
		}
		if got := float64(tfdt(b)); math.Abs(got-start*ts) > ts*0.001 {
			t.Errorf("segment %d tfdt %v, want %v", i, got, start*ts)
		}
		if i == 0 && firstSampleCTO(b) != 0 {
			t.Errorf("first sample presented %d ticks after tfdt", firstSampleCTO(b))
		}
		start += s.GetDurationSeconds()
	}
}

func TestIntegrationProbeEncode(t *testing.T) {
	ffmpegBin, ffprobeBin := tools(t)
	dir := t.TempDir()
	src := makeClip(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	res, err := Probe(ctx, ffprobeBin, src, ProbeOptions{Whitelist: "file"})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetWidth() != 320 || res.GetHeight() != 180 || res.GetFrameRate() != 25 ||
		math.Abs(res.GetDurationSeconds()-3) > 0.05 || !res.GetHasAudio() {
		t.Fatalf("probe %v", res)
	}

	rend := &vodfleetv1.Rendition{Name: "136p", Width: 240, Height: 136, VideoBitrate: 200_000,
		MaxBitrate: 300_000, Profile: "main", Level: "3.0"}
	vdir := filepath.Join(dir, "video")
	if err := os.Mkdir(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	initName, segs := encode(t, ffmpegBin, vdir, VideoArgs(VideoJob{Input: src, Whitelist: "file",
		Rendition: rend, FrameRate: res.GetFrameRate(), SegmentSeconds: 1, OutDir: vdir}))
	if len(segs) != 3 {
		t.Fatalf("%d video segments, want 3", len(segs))
	}
	for _, s := range segs {
		if s.GetDurationSeconds() != 1 {
			t.Errorf("video segment %s lasts %v", s.GetName(), s.GetDurationSeconds())
		}
	}
	checkTimeline(t, vdir, initName, segs)
	init, _ := os.ReadFile(filepath.Join(vdir, initName))
	if i := bytes.Index(init, []byte("avcC")); i < 0 || "avc1."+hexString(init[i+5:i+8]) != H264Codecs("main", "3.0") {
		t.Errorf("avcC does not match H264Codecs %s", H264Codecs("main", "3.0"))
	}
	out, err := exec.Command(ffprobeBin, "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=width,height", "-of", "csv=p=0", filepath.Join(vdir, segs[0].GetName())).CombinedOutput()
	if err == nil && strings.TrimSpace(string(out)) != "240,136" {
		t.Errorf("segment size %q", out)
	}

	adir := filepath.Join(dir, "audio")
	if err := os.Mkdir(adir, 0o755); err != nil {
		t.Fatal(err)
	}
	initName, segs = encode(t, ffmpegBin, adir, AudioArgs(AudioJob{Input: src, Whitelist: "file",
		Audio: &vodfleetv1.AudioSpec{Bitrate: 96_000, Channels: 2, SampleRate: 48000}, SegmentSeconds: 1, OutDir: adir}))
	if len(segs) < 3 {
		t.Fatalf("%d audio segments", len(segs))
	}
	checkTimeline(t, adir, initName, segs)
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	var s []byte
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

// TestIntegrationSharedTimeline encodes video and audio of an MPEG-TS whose
// audio starts 0.5 s after its video in separate runs: the audio track must
// be padded so both start at the same zero.
func TestIntegrationSharedTimeline(t *testing.T) {
	ffmpegBin, _ := tools(t)
	dir := t.TempDir()
	src := makeClip(t, dir)
	ts := filepath.Join(dir, "late.ts")
	if b, err := exec.Command(ffmpegBin, "-nostdin", "-v", "error", "-i", src, "-itsoffset", "0.5", "-i", src,
		"-map", "0:v", "-map", "1:a", "-c", "copy", ts).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	adir := filepath.Join(dir, "audio")
	if err := os.Mkdir(adir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, segs := encode(t, ffmpegBin, adir, AudioArgs(AudioJob{Input: ts, Whitelist: "file",
		Audio: &vodfleetv1.AudioSpec{Bitrate: 96_000, Channels: 2, SampleRate: 48000}, SegmentSeconds: 1, OutDir: adir}))
	var total float64
	for _, s := range segs {
		total += s.GetDurationSeconds()
	}
	if total < 3.4 {
		t.Errorf("audio lasts %.3f s; the 0.5 s lead-in was not padded", total)
	}
}

func TestIntegrationErrors(t *testing.T) {
	ffmpegBin, ffprobeBin := tools(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello, not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := Probe(ctx, ffprobeBin, text, ProbeOptions{Whitelist: "file"})
	if !errors.Is(err, ErrInvalidMedia) || !IsPermanent(err) {
		t.Fatalf("probe text: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid data found when processing input") || strings.Contains(err.Error(), dir) {
		t.Errorf("probe error message %q", err)
	}
	// The whitelist is enforced.
	if _, err := Probe(ctx, ffprobeBin, "http://127.0.0.1:1/x.mp4", ProbeOptions{Whitelist: "file"}); err == nil {
		t.Error("http allowed by a file whitelist")
	}
	// A server error is worth a retry; a missing object is not.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "busy") {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	_, err = Probe(ctx, ffprobeBin, srv.URL+"/busy.mp4?sig=secret", ProbeOptions{Whitelist: "http,tcp"})
	if !errors.Is(err, ErrFailed) || IsPermanent(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("probe 503: %v", err)
	}
	if _, err = Probe(ctx, ffprobeBin, srv.URL+"/gone.mp4", ProbeOptions{Whitelist: "http,tcp"}); !errors.Is(err, ErrInvalidMedia) {
		t.Errorf("probe 404: %v", err)
	}
	// ffmpeg on the text file fails as invalid media, on a missing file as
	// a retryable failure.
	args := AudioArgs(AudioJob{Input: text, Audio: &vodfleetv1.AudioSpec{Bitrate: 64000}, SegmentSeconds: 1, OutDir: dir})
	if err := Run(ctx, testLogger(t), ffmpegBin, args, nil); !errors.Is(err, ErrInvalidMedia) {
		t.Errorf("run on text: %v", err)
	}
	args = AudioArgs(AudioJob{Input: filepath.Join(dir, "missing.mp4"), SegmentSeconds: 1, OutDir: dir})
	if err := Run(ctx, testLogger(t), ffmpegBin, args, nil); !errors.Is(err, ErrFailed) || IsPermanent(err) {
		t.Errorf("run on missing file: %v", err)
	}
}
