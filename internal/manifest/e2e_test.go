package manifest

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestPlayableWithFFmpeg encodes a short clip with the ffmpeg package,
// writes the manifests and has ffmpeg's own HLS and DASH demuxers play
// them to the end: a check that the manifests and the CMAF files agree.
func TestPlayableWithFFmpeg(t *testing.T) {
	ffmpegBin, ffprobeBin := testmedia.Tools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	src := testmedia.Make(t, root, testmedia.Clip{Size: "320x180", Seconds: 5})
	log := hclog.NewNullLogger()
	var tracks []*vodfleetv1.TrackOutput
	for _, r := range []*vodfleetv1.Rendition{
		{Width: 320, Height: 180, VideoBitrate: 300_000, MaxBitrate: 400_000, Profile: "high", Level: "3.0"},
		{Width: 160, Height: 90, VideoBitrate: 100_000, MaxBitrate: 150_000, Profile: "baseline", Level: "3.0"},
	} {
		dir := "v" + strconv.Itoa(int(r.GetHeight())) + "p"
		tr := &vodfleetv1.TrackOutput{Dir: dir, Codecs: ffmpeg.H264Codecs(r.GetProfile(), r.GetLevel()),
			Width: r.GetWidth(), Height: r.GetHeight(), FrameRate: 25}
		tracks = append(tracks, run(ctx, t, log, ffmpegBin, root, tr, ffmpeg.VideoArgs(ffmpeg.VideoJob{
			Input: src, Rendition: r, FrameRate: 25, SegmentSeconds: 2, OutDir: filepath.Join(root, dir)})))
	}
	au := &vodfleetv1.AudioSpec{Bitrate: 64_000, Channels: 2, SampleRate: 48000}
	tracks = append(tracks, run(ctx, t, log, ffmpegBin, root,
		&vodfleetv1.TrackOutput{Dir: "audio", Codecs: ffmpeg.AACCodecs, SampleRate: 48000, Channels: 2},
		ffmpeg.AudioArgs(ffmpeg.AudioJob{Input: src, Audio: au, SegmentSeconds: 2, OutDir: filepath.Join(root, "audio")})))

	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("master.m3u8", HLSMaster(tracks, "media.m3u8"))
	for _, tr := range tracks {
		write(tr.GetDir()+"/media.m3u8", HLSMedia(tr))
	}
	mpd, err := DASH(tracks, 5)
	if err != nil {
		t.Fatal(err)
	}
	write("manifest.mpd", mpd)

	for _, m := range []string{"master.m3u8", "manifest.mpd"} {
		// Decode the first variant and the audio to the end.
		out, err := exec.CommandContext(ctx, ffmpegBin, "-nostdin", "-v", "error", "-i", filepath.Join(root, m),
			"-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-").CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("%s: %v: %s", m, err, out)
		}
		out, err = exec.CommandContext(ctx, ffprobeBin, "-v", "error", "-show_entries", "format=duration",
			"-of", "csv=p=0", filepath.Join(root, m)).CombinedOutput()
		if d, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err != nil || perr != nil || math.Abs(d-5) > 0.1 {
			t.Errorf("%s: duration %q %v", m, out, err)
		}
	}
}

// run encodes one track into root/tr.Dir and fills in its segments.
func run(ctx context.Context, t *testing.T, log hclog.Logger, bin, root string, tr *vodfleetv1.TrackOutput, args []string) *vodfleetv1.TrackOutput {
	t.Helper()
	dir := filepath.Join(root, tr.GetDir())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ffmpeg.Run(ctx, log, bin, args, nil); err != nil {
		t.Fatal(err)
	}
	pl, err := os.ReadFile(filepath.Join(dir, ffmpeg.PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	if tr.InitName, tr.Segments, err = ffmpeg.ParseMediaPlaylist(pl); err != nil {
		t.Fatal(err)
	}
	for _, s := range tr.GetSegments() {
		st, err := os.Stat(filepath.Join(dir, s.GetName()))
		if err != nil {
			t.Fatal(err)
		}
		s.Size = st.Size()
	}
	return tr
}
