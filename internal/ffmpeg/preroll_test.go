package ffmpeg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestChunkPreroll encodes the second chunk of a clip without and with a
// preroll (the preroll run fused, two renditions in one MultiVideoArgs
// run, as agents do) and checks that, once DropPreroll has removed the
// preroll segment, each rendition's chunk has the same segment names and
// durations and the same frames at the same presentation and decode
// times as without preroll. With an NTSC output rate the preroll is 30
// frames (1.001 s), not 1 s, so the frame grid does not move.
func TestChunkPreroll(t *testing.T) {
	bin, _ := tools(t)
	for _, tc := range []struct {
		name      string
		srcRate   int
		frameRate float64
		preroll   float64
	}{
		{"25fps", 25, 25, 1},
		{"29.97fps", 30, 30000.0 / 1001, 1.001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 8, Rate: tc.srcRate, NoAudio: true})
			if p := ChunkPreroll(tc.frameRate, 2); p != tc.preroll {
				t.Fatalf("ChunkPreroll(%v, 2) = %v, want %v", tc.frameRate, p, tc.preroll)
			}
			rends := []*vodfleetv1.Rendition{
				{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000, MaxBitrate: 450_000, Profile: "main"},
				{Name: "90p", Width: 160, Height: 90, VideoBitrate: 100_000, MaxBitrate: 150_000, Profile: "main"},
			}
			job := func(r *vodfleetv1.Rendition, out string, preroll float64) VideoJob {
				if err := os.MkdirAll(out, 0o755); err != nil {
					t.Fatal(err)
				}
				return VideoJob{Input: src, Whitelist: "file", Rendition: r, FrameRate: tc.frameRate, SegmentSeconds: 2, OutDir: out,
					Chunk: &Chunk{Start: 4, Duration: 4, FirstSegment: 3, Preroll: preroll}, Preset: "veryfast"}
			}
			var warm []VideoJob
			for _, r := range rends {
				warm = append(warm, job(r, filepath.Join(dir, "preroll", r.GetName()), tc.preroll))
			}
			_, all := encode(t, bin, warm[0].OutDir, MultiVideoArgs(warm))
			if len(all) != 3 || all[0].GetName() != "seg_00002.m4s" {
				t.Fatalf("with preroll: segments %v, want the preroll as seg_00002 then two", segNames(all))
			}
			for i, r := range rends {
				cold := job(r, filepath.Join(dir, "cold", r.GetName()), 0)
				_, want := encode(t, bin, cold.OutDir, VideoArgs(cold))
				pl, err := os.ReadFile(filepath.Join(warm[i].OutDir, PlaylistName))
				if err != nil {
					t.Fatal(err)
				}
				_, segs, err := ParseMediaPlaylist(pl)
				if err != nil {
					t.Fatal(err)
				}
				got, err := DropPreroll(warm[i], segs)
				if err != nil {
					t.Fatalf("%s: %v", r.GetName(), err)
				}
				if _, err := os.Stat(filepath.Join(warm[i].OutDir, "seg_00002.m4s")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: preroll segment still there (%v)", r.GetName(), err)
				}
				if len(got) != 2 || len(want) != 2 {
					t.Fatalf("%s: segments %v with preroll, %v without", r.GetName(), segNames(got), segNames(want))
				}
				for k := range got {
					if got[k].GetName() != want[k].GetName() || got[k].GetDurationSeconds() != want[k].GetDurationSeconds() {
						t.Errorf("%s: %s %v s with preroll, %s %v s without", r.GetName(),
							got[k].GetName(), got[k].GetDurationSeconds(), want[k].GetName(), want[k].GetDurationSeconds())
					}
				}
				a, b := frameTimes(t, warm[i].OutDir, got), frameTimes(t, cold.OutDir, want)
				if a != b || a == "" {
					t.Errorf("%s: frames (pts,dts) with preroll:\n%s\nwithout:\n%s", r.GetName(), a, b)
				}
			}
		})
	}
}

// TestDropPrerollChecksTheSegments: a playlist whose first segment is
// not the preroll is refused and nothing is deleted.
func TestDropPrerollChecksTheSegments(t *testing.T) {
	dir := t.TempDir()
	j := VideoJob{OutDir: dir, FrameRate: 25, SegmentSeconds: 2, Chunk: &Chunk{Start: 4, Duration: 4, FirstSegment: 3, Preroll: 1}}
	seg := func(n string, d float64) *vodfleetv1.Segment { return &vodfleetv1.Segment{Name: n, DurationSeconds: d} }
	for _, n := range []string{"seg_00002.m4s", "seg_00003.m4s"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, segs := range map[string][]*vodfleetv1.Segment{
		"no preroll segment": {seg("seg_00003.m4s", 2), seg("seg_00004.m4s", 2)},
		"preroll too long":   {seg("seg_00002.m4s", 3), seg("seg_00003.m4s", 2)},
		"preroll alone":      {seg("seg_00002.m4s", 1)},
	} {
		if _, err := DropPreroll(j, segs); !errors.Is(err, ErrBadPreroll) {
			t.Errorf("%s: %v, want ErrBadPreroll", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "seg_00002.m4s")); err != nil {
		t.Fatalf("a refused preroll was deleted: %v", err)
	}
	first := &Chunk{Start: 0, Duration: 4, FirstSegment: 1, Preroll: 1}
	segs := []*vodfleetv1.Segment{seg("seg_00001.m4s", 2)}
	if got, err := DropPreroll(VideoJob{OutDir: dir, Chunk: first}, segs); err != nil || len(got) != 1 {
		t.Fatalf("first chunk (no preroll possible): %v, %v", segNames(got), err)
	}
}

// frameTimes joins a rendition's init and segments and lists its video
// packets' presentation and decode times in decode order.
func frameTimes(t *testing.T, dir string, segs []*vodfleetv1.Segment) string {
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
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,dts_time",
		"-of", "csv=p=0", joined).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}
