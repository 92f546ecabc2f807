package ffmpeg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// subtitledClip muxes a 4 s clip with a French SubRip track (stream 2)
// and an untagged ASS track (stream 3) into an MKV.
func subtitledClip(t *testing.T) string {
	t.Helper()
	bin, _ := testmedia.Tools(t)
	dir := t.TempDir()
	src := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 4})
	srt := filepath.Join(dir, "fr.srt")
	cues := "1\n00:00:00,500 --> 00:00:01,800\nBonjour le monde\n\n2\n00:00:02,000 --> 00:00:03,250\nAu revoir\n"
	if err := os.WriteFile(srt, []byte(cues), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "subtitled.mkv")
	cmd := exec.Command(bin, "-nostdin", "-v", "error", "-y", "-i", src, "-i", srt, "-i", srt,
		"-map", "0:v", "-map", "0:a", "-map", "1:s", "-map", "2:s", "-c:v", "copy", "-c:a", "copy",
		"-c:s:0", "srt", "-c:s:1", "ass", "-metadata:s:s:0", "language=fra", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out
}

func TestExtractSubtitles(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	src := subtitledClip(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outs, err := ExtractSubtitles(ctx, testmedia.Logger(t, hclog.Debug), bin, src, "file", dir, []SubtitleStream{
		{Index: 2, Codec: "subrip", Language: "fra"},
		{Index: 3, Codec: "ass", Language: "und"},
		{Index: 7, Codec: "hdmv_pgs_subtitle", Language: "eng"},
		{Index: 8, Codec: "eia_608", Language: "eng"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []SubtitleOutput{
		{Index: 2, Language: "fra", Name: "sub_fra.vtt"},
		{Index: 3, Language: "und", Name: "sub_3.vtt"},
		{Index: 7, Language: "eng"},
		{Index: 8, Language: "eng"},
	}
	if len(outs) != len(want) {
		t.Fatalf("outputs %+v", outs)
	}
	for i, o := range outs {
		w := want[i]
		if o.Index != w.Index || o.Language != w.Language || o.Name != w.Name || (o.Name == "") == (o.Skipped == "") {
			t.Errorf("output %d = %+v, want %+v with a reason only when skipped", i, o, w)
		}
	}
	if !strings.Contains(outs[2].Skipped, "bitmap") {
		t.Errorf("pgs skipped because %q", outs[2].Skipped)
	}
	// The MKV muxer shifted every stream by the AAC priming delay, so cues
	// are expected where the packets are relative to the container start:
	// the zero of the video and audio encodes.
	texts := []string{"Bonjour le monde", "Au revoir"}
	for i, name := range []string{"sub_fra.vtt", "sub_3.vtt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		vtt := string(b)
		if !strings.HasPrefix(vtt, "WEBVTT\n") {
			t.Errorf("%s does not start with WEBVTT:\n%s", name, vtt)
		}
		for k, p := range subtitlePackets(t, src, 2+i) {
			if srt := []float64{0.5, 2}[k]; math.Abs(p[0]-srt) > 0.05 {
				t.Fatalf("packet %d at %v, the SRT says %v", k, p[0], srt)
			}
			cue := vttShort(p[0]) + " --> " + vttShort(p[1]) + "\n" + texts[k] + "\n"
			if !strings.Contains(vtt, cue) {
				t.Errorf("%s lacks %q:\n%s", name, cue, vtt)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files written, want 2", len(entries))
	}
}

// subtitlePackets returns [start, end] in seconds of every packet of stream
// index in path, relative to the container's start time.
func subtitlePackets(t *testing.T, path string, index int) [][2]float64 {
	t.Helper()
	_, ffprobe := testmedia.Tools(t)
	out, err := exec.Command(ffprobe, "-v", "error", "-print_format", "json", "-show_format",
		"-show_packets", "-select_streams", strconv.Itoa(index), path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Packets []struct {
			PTS      string `json:"pts_time"`
			Duration string `json:"duration_time"`
		} `json:"packets"`
		Format struct {
			Start string `json:"start_time"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	start, _ := strconv.ParseFloat(r.Format.Start, 64)
	var pkts [][2]float64
	for _, p := range r.Packets {
		pts, err1 := strconv.ParseFloat(p.PTS, 64)
		d, err2 := strconv.ParseFloat(p.Duration, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("packet %+v", p)
		}
		pkts = append(pkts, [2]float64{pts - start, pts - start + d})
	}
	if len(pkts) != 2 {
		t.Fatalf("stream %d has %d packets, want 2", index, len(pkts))
	}
	return pkts
}

// vttShort formats seconds the way ffmpeg's WebVTT muxer does below an
// hour, MM:SS.mmm.
func vttShort(s float64) string {
	ms := int64(math.Round(s * 1000))
	return fmt.Sprintf("%02d:%02d.%03d", ms/60_000, ms/1000%60, ms%1000)
}

func TestExtractSubtitlesErrors(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	ctx := context.Background()
	log := testmedia.Logger(t, hclog.Debug)
	dir := t.TempDir()
	for _, streams := range [][]SubtitleStream{
		{{Index: -1, Codec: "subrip"}},
		{{Index: 2, Codec: "subrip"}, {Index: 2, Codec: "ass"}},
	} {
		if _, err := ExtractSubtitles(ctx, log, bin, "in.mkv", "file", dir, streams); !errors.Is(err, ErrBadJob) {
			t.Errorf("%+v: %v", streams, err)
		}
	}
	// Only bitmap streams: nothing to run.
	outs, err := ExtractSubtitles(ctx, log, bin, "missing.mkv", "file", dir, []SubtitleStream{{Index: 1, Codec: "dvd_subtitle"}})
	if err != nil || len(outs) != 1 || outs[0].Skipped == "" {
		t.Errorf("bitmap only: %+v, %v", outs, err)
	}
	// A stream that is not there fails and leaves no partial file.
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 1})
	_, err = ExtractSubtitles(ctx, log, bin, src, "file", dir, []SubtitleStream{{Index: 5, Codec: "subrip", Language: "eng"}})
	if !errors.Is(err, ErrInvalidMedia) && !errors.Is(err, ErrFailed) {
		t.Errorf("missing stream: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}

func TestSubtitleNames(t *testing.T) {
	for _, c := range []string{"subrip", "ass", "mov_text", "webvtt"} {
		if !TextSubtitleCodec(c) {
			t.Errorf("%s is text", c)
		}
	}
	for _, c := range []string{"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", ""} {
		if TextSubtitleCodec(c) {
			t.Errorf("%q is not text", c)
		}
	}
	used := map[string]bool{}
	for _, tc := range []struct {
		s    SubtitleStream
		want string
	}{
		{SubtitleStream{Index: 2, Language: "ENG"}, "sub_eng.vtt"},
		{SubtitleStream{Index: 3, Language: "eng"}, "sub_eng_3.vtt"},
		{SubtitleStream{Index: 4, Language: "pt-BR"}, "sub_pt-br.vtt"},
		{SubtitleStream{Index: 5, Language: "../x"}, "sub_5.vtt"},
		{SubtitleStream{Index: 6}, "sub_6.vtt"},
		{SubtitleStream{Index: 7, Language: "7"}, "sub_7.vtt"},
	} {
		got := subtitleName(tc.s, used)
		used[got] = true
		if got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}
