package ffmpeg

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestMultiVideoArgsMatchesSeparateEncodes encodes the second chunk of a
// clip to two renditions in one ffmpeg run and checks each output against
// a separate VideoArgs run of the same chunk: the same segment names and
// durations, the same frames at the same times, and sizes within 5 %
// (x264's threads make the bytes differ slightly).
func TestMultiVideoArgsMatchesSeparateEncodes(t *testing.T) {
	bin, _ := tools(t)
	dir := t.TempDir()
	src := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 6})
	rends := []*vodfleetv1.Rendition{
		{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000, MaxBitrate: 450_000, Profile: "main"},
		{Name: "90p", Width: 160, Height: 90, VideoBitrate: 100_000, MaxBitrate: 150_000, Profile: "main"},
	}
	job := func(r *vodfleetv1.Rendition, out string) VideoJob {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		return VideoJob{Input: src, Whitelist: "file", Rendition: r, FrameRate: 25, SegmentSeconds: 1, OutDir: out,
			Chunk: &Chunk{Start: 2, Duration: 2, FirstSegment: 3}, Preset: "veryfast"}
	}
	var fused []VideoJob
	for _, r := range rends {
		fused = append(fused, job(r, filepath.Join(dir, "fused", r.GetName())))
	}
	encode(t, bin, fused[0].OutDir, MultiVideoArgs(fused))
	for i, r := range rends {
		alone := job(r, filepath.Join(dir, "alone", r.GetName()))
		_, want := encode(t, bin, alone.OutDir, VideoArgs(alone))
		pl, err := os.ReadFile(filepath.Join(fused[i].OutDir, PlaylistName))
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := ParseMediaPlaylist(pl)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || len(want) != 2 || got[0].GetName() != "seg_00003.m4s" || got[1].GetName() != "seg_00004.m4s" {
			t.Fatalf("%s: fused segments %v, alone %v", r.GetName(), got, want)
		}
		for k := range got {
			if got[k].GetDurationSeconds() != want[k].GetDurationSeconds() {
				t.Errorf("%s %s: %vs fused, %vs alone", r.GetName(), got[k].GetName(), got[k].GetDurationSeconds(), want[k].GetDurationSeconds())
			}
			a, _ := os.ReadFile(filepath.Join(fused[i].OutDir, got[k].GetName()))
			b, _ := os.ReadFile(filepath.Join(alone.OutDir, want[k].GetName()))
			if len(a) == 0 || math.Abs(float64(len(a)-len(b))) > 0.05*float64(len(b)) {
				t.Errorf("%s %s: %d bytes fused, %d alone", r.GetName(), got[k].GetName(), len(a), len(b))
			}
		}
		if f, a := packetTimes(t, fused[i].OutDir, got), packetTimes(t, alone.OutDir, want); f != a || f == "" {
			t.Errorf("%s: fused frames %s\nalone frames %s", r.GetName(), f, a)
		}
	}
}

// packetTimes joins a rendition's init and segments and lists its video
// packets' presentation times.
func packetTimes(t *testing.T, dir string, segs []*vodfleetv1.Segment) string {
	t.Helper()
	var all []byte
	for _, n := range append([]string{InitName}, names(segs)...) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	joined := filepath.Join(dir, "joined.mp4")
	if err := os.WriteFile(joined, all, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", joined).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(out))
	sort.Strings(lines)
	return strings.Join(lines, " ")
}

func names(segs []*vodfleetv1.Segment) []string {
	var out []string
	for _, s := range segs {
		out = append(out, s.GetName())
	}
	return out
}
