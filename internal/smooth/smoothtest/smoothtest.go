// Package smoothtest packages a short generated clip the way agents and
// the packager do (two H.264 renditions and AAC audio in CMAF segments,
// with the DASH MPD over them), for the Smooth Streaming tests of
// internal/smooth and the edge. It is a test helper: it fails the test on
// any error.
package smoothtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/manifest"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// MPDName is where Package writes the MPD, as the packager does.
const MPDName = "manifest.mpd"

// Seconds is the length of the packaged clip.
const Seconds = 5

// Package encodes a Seconds-long 320x180 clip into root: video renditions
// v180p (320x180, high profile, peak 400 kb/s) and v90p (160x90,
// baseline, peak 150 kb/s) and 48 kHz stereo AAC in audio/, 2 s segments,
// then writes root/manifest.mpd. It returns the tracks.
func Package(t testing.TB, root string) []*vodfleetv1.TrackOutput {
	t.Helper()
	bin, _ := testmedia.Tools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: Seconds})
	log := hclog.NewNullLogger()
	var tracks []*vodfleetv1.TrackOutput
	encode := func(tr *vodfleetv1.TrackOutput, args []string) {
		dir := filepath.Join(root, tr.GetDir())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := ffmpeg.Run(ctx, log, bin, args, nil); err != nil {
			t.Fatalf("encode %s: %v", tr.GetDir(), err)
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
		tracks = append(tracks, tr)
	}
	for _, r := range []*vodfleetv1.Rendition{
		{Width: 320, Height: 180, VideoBitrate: 300_000, MaxBitrate: 400_000, Profile: "high", Level: "3.0"},
		{Width: 160, Height: 90, VideoBitrate: 100_000, MaxBitrate: 150_000, Profile: "baseline", Level: "3.0"},
	} {
		dir := "v" + strconv.Itoa(int(r.GetHeight())) + "p"
		tr := &vodfleetv1.TrackOutput{Dir: dir, Codecs: ffmpeg.H264Codecs(r.GetProfile(), r.GetLevel()),
			Width: r.GetWidth(), Height: r.GetHeight(), FrameRate: 25, PeakBitrate: r.GetMaxBitrate()}
		encode(tr, ffmpeg.VideoArgs(ffmpeg.VideoJob{Input: src, Rendition: r, FrameRate: 25,
			SegmentSeconds: 2, OutDir: filepath.Join(root, dir)}))
	}
	au := &vodfleetv1.AudioSpec{Bitrate: 64_000, Channels: 2, SampleRate: 48000}
	encode(&vodfleetv1.TrackOutput{Dir: "audio", Codecs: ffmpeg.AACCodecs, SampleRate: 48000, Channels: 2, PeakBitrate: 64_000},
		ffmpeg.AudioArgs(ffmpeg.AudioJob{Input: src, Audio: au, SegmentSeconds: 2, OutDir: filepath.Join(root, "audio")}))
	mpd, err := manifest.DASH(tracks, Seconds)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, MPDName), []byte(mpd), 0o644); err != nil {
		t.Fatal(err)
	}
	return tracks
}
