package ffmpeg

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// mediaInfo is the part of ffprobe's JSON output the repackaging tests
// check.
type mediaInfo struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// probeMedia runs ffprobe on path.
func probeMedia(t *testing.T, path string) mediaInfo {
	t.Helper()
	_, ffprobe := testmedia.Tools(t)
	out, err := exec.Command(ffprobe, "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	var m mediaInfo
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// seconds returns the probed format duration.
func (m mediaInfo) seconds(t *testing.T) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(m.Format.Duration, 64)
	if err != nil {
		t.Fatalf("duration %q: %v", m.Format.Duration, err)
	}
	return d
}

// count returns the number of streams of codecType.
func (m mediaInfo) count(codecType string) int {
	n := 0
	for _, s := range m.Streams {
		if s.CodecType == codecType {
			n++
		}
	}
	return n
}

// cmafRenditions encodes a 5 s 320x180 clip to a video and an audio CMAF
// rendition with 2 s segments (so the last one is short) the way the agent
// does, and returns the source and both directories.
func cmafRenditions(t *testing.T) (src, videoDir, audioDir string) {
	t.Helper()
	bin, _ := testmedia.Tools(t)
	dir := t.TempDir()
	src = testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 5})
	videoDir, audioDir = filepath.Join(dir, "video"), filepath.Join(dir, "audio")
	for _, d := range []string{videoDir, audioDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := testmedia.Logger(t, hclog.Info)
	video := VideoArgs(VideoJob{Input: src, Whitelist: "file", FrameRate: 25, SegmentSeconds: 2, OutDir: videoDir,
		Rendition: &vodfleetv1.Rendition{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000}})
	audio := AudioArgs(AudioJob{Input: src, Whitelist: "file", SegmentSeconds: 2, OutDir: audioDir,
		Audio: &vodfleetv1.AudioSpec{Bitrate: 96_000, Channels: 2, SampleRate: 48000}})
	for _, args := range [][]string{video, audio} {
		if err := Run(ctx, log, bin, args, nil); err != nil {
			t.Fatal(err)
		}
	}
	return src, videoDir, audioDir
}

// topLevelBoxes lists the types of the top-level ISO BMFF boxes of data.
func topLevelBoxes(t *testing.T, data []byte) []string {
	t.Helper()
	var types []string
	for len(data) > 0 {
		if len(data) < 8 {
			t.Fatalf("truncated box header after %v", types)
		}
		size := uint64(binary.BigEndian.Uint32(data))
		hdr := uint64(8)
		switch size {
		case 0: // to the end of the file
			size = uint64(len(data))
		case 1: // 64-bit largesize
			if len(data) < 16 {
				t.Fatalf("truncated largesize after %v", types)
			}
			size, hdr = binary.BigEndian.Uint64(data[8:]), 16
		}
		if size < hdr || size > uint64(len(data)) {
			t.Fatalf("bad box size %d after %v", size, types)
		}
		types = append(types, string(data[4:8]))
		data = data[size:]
	}
	return types
}

func TestProgressiveMP4(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	src, videoDir, audioDir := cmafRenditions(t)
	want := probeMedia(t, src).seconds(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := testmedia.Logger(t, hclog.Debug)

	out := filepath.Join(t.TempDir(), "download.mp4")
	if err := ProgressiveMP4(ctx, log, bin, videoDir, audioDir, out); err != nil {
		t.Fatal(err)
	}
	m := probeMedia(t, out)
	if m.count("video") != 1 || m.count("audio") != 1 || len(m.Streams) != 2 {
		t.Errorf("streams %+v, want one video and one audio", m.Streams)
	}
	if got := m.seconds(t); math.Abs(got-want) > 0.2 {
		t.Errorf("duration %.3f s, source %.3f s", got, want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	boxes := topLevelBoxes(t, data)
	moov, mdat := -1, -1
	for i, b := range boxes {
		switch {
		case b == "moov" && moov < 0:
			moov = i
		case b == "mdat" && mdat < 0:
			mdat = i
		case b == "moof":
			t.Errorf("fragmented output: %v", boxes)
		}
	}
	if moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("top-level boxes %v: moov must precede mdat", boxes)
	}
	if _, err := os.Stat(out + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}

	// Video only.
	silent := filepath.Join(t.TempDir(), "silent.mp4")
	if err := ProgressiveMP4(ctx, log, bin, videoDir, "", silent); err != nil {
		t.Fatal(err)
	}
	if m := probeMedia(t, silent); m.count("video") != 1 || len(m.Streams) != 1 {
		t.Errorf("video-only streams %+v", m.Streams)
	}
}

func TestProgressiveMP4Errors(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	ctx := context.Background()
	log := testmedia.Logger(t, hclog.Debug)
	dir := t.TempDir()
	if err := ProgressiveMP4(ctx, log, bin, dir, "", ""); !errors.Is(err, ErrBadJob) {
		t.Errorf("no output: %v", err)
	}
	if err := ProgressiveMP4(ctx, log, bin, "", "", filepath.Join(dir, "x.mp4")); !errors.Is(err, ErrBadJob) {
		t.Errorf("no video: %v", err)
	}
	// An interrupted encode has no EXT-X-ENDLIST.
	pl := "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\nseg_00001.m4s\n"
	if err := os.WriteFile(filepath.Join(dir, PlaylistName), []byte(pl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ProgressiveMP4(ctx, log, bin, dir, "", filepath.Join(dir, "x.mp4")); !errors.Is(err, ErrBadPlaylist) {
		t.Errorf("incomplete playlist: %v", err)
	}
	if err := ProgressiveMP4(ctx, log, bin, filepath.Join(dir, "missing"), "", filepath.Join(dir, "x.mp4")); !errors.Is(err, ErrBadPlaylist) {
		t.Errorf("missing playlist: %v", err)
	}
}
