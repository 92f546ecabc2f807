package ffmpeg

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestDeinterlaceParity(t *testing.T) {
	for order, want := range map[string]string{
		"tt": ParityTFF, "bt": ParityTFF,
		"bb": ParityBFF, "tb": ParityBFF,
		"progressive": "", "": "", "unknown": "",
	} {
		if got := DeinterlaceParity(order); got != want {
			t.Errorf("DeinterlaceParity(%q) = %q, want %q", order, got, want)
		}
	}
}

func TestVideoArgsDeinterlace(t *testing.T) {
	r := &vodfleetv1.Rendition{Name: "180p", Width: 320, Height: 180}
	job := VideoJob{Input: "in.ts", Rendition: r, FrameRate: 25, SegmentSeconds: 2, OutDir: "/tmp/o", Deinterlace: ParityBFF}
	if got, want := argAfter(t, VideoArgs(job), "-vf"), "bwdif=mode=send_frame:parity=bff:deint=all,scale=320:180,setsar=1"; got != want {
		t.Errorf("-vf = %q, want %q", got, want)
	}
	// Progressive sources are not filtered.
	job.Deinterlace = ""
	if got := argAfter(t, VideoArgs(job), "-vf"); strings.Contains(got, "bwdif") {
		t.Errorf("progressive -vf = %q", got)
	}
	// Several renditions: deinterlaced once, before the split.
	small := job
	small.Rendition = &vodfleetv1.Rendition{Name: "90p", Width: 160, Height: 90}
	small.OutDir = "/tmp/p"
	job.Deinterlace, small.Deinterlace = ParityTFF, ParityTFF
	graph := argAfter(t, MultiVideoArgs([]VideoJob{job, small}), "-filter_complex")
	if !strings.HasPrefix(graph, "[0:v:0]bwdif=mode=send_frame:parity=tff:deint=all,split=2[s0][s1];") || strings.Count(graph, "bwdif") != 1 {
		t.Errorf("filter graph %q", graph)
	}
}

func TestIdetVerdict(t *testing.T) {
	for _, c := range []struct {
		counts idetCounts
		want   string
	}{
		{idetCounts{tff: 50}, "tt"},
		{idetCounts{bff: 40, tff: 2, undetermined: 8}, "bb"},
		{idetCounts{tff: 30, progressive: 10, undetermined: 60}, "tt"},
		{idetCounts{progressive: 45, tff: 5}, "progressive"},
		{idetCounts{undetermined: 50}, ""},           // still picture
		{idetCounts{tff: 5, undetermined: 95}, ""},   // a few combed-looking frames
		{idetCounts{tff: 20, progressive: 15}, ""},   // no clear majority
		{idetCounts{}, ""},                           // nothing decoded
		{idetCounts{tff: 20, progressive: 10}, "tt"}, // exactly twice
	} {
		if got := idetVerdict(c.counts); got != c.want {
			t.Errorf("idetVerdict(%+v) = %q, want %q", c.counts, got, c.want)
		}
	}
}

func TestParseIdet(t *testing.T) {
	out := "frame:0    pts:0       pts_time:0\nlavfi.idet.single.tff=0.00\nlavfi.idet.single.progressive=1.00\n" +
		"frame:1    pts:1       pts_time:0.04\nlavfi.idet.single.tff=3.00\nlavfi.idet.single.bff=1.00\n" +
		"lavfi.idet.single.progressive=2.00\nlavfi.idet.single.undetermined=4.00\nlavfi.idet.multiple.tff=9.00\n"
	if got, want := parseIdet([]byte(out)), (idetCounts{tff: 3, bff: 1, progressive: 2, undetermined: 4}); got != want {
		t.Errorf("parseIdet = %+v, want %+v", got, want)
	}
}

// TestMeasureFieldOrder runs idet on real clips whose container does not
// record the field order (MPEG-4 Part 2 in AVI): woven top-field-first
// video is "tt", progressive video is not interlaced.
func TestMeasureFieldOrder(t *testing.T) {
	bin, probe := tools(t)
	dir := t.TempDir()
	gen := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		if b, err := exec.Command(bin, append(append([]string{"-nostdin", "-v", "error", "-y"}, args...), out)...).CombinedOutput(); err != nil {
			t.Fatalf("generate %s: %v\n%s", name, err, b)
		}
		return out
	}
	interlaced := gen("interlaced.avi", "-f", "lavfi", "-i", "testsrc=size=192x108:rate=50:duration=2",
		"-vf", "tinterlace=interleave_top,setfield=tff", "-c:v", "mpeg4", "-flags", "+ildct+ilme", "-q:v", "3")
	progressive := gen("progressive.avi", "-f", "lavfi", "-i", "testsrc=size=192x108:rate=25:duration=2", "-c:v", "mpeg4", "-q:v", "3")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for path, want := range map[string][]string{interlaced: {"tt"}, progressive: {"", "progressive"}} {
		res, err := Probe(ctx, probe, path, ProbeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetFieldOrder() != "" {
			t.Fatalf("%s: probe field order %q; the test needs a container without one", filepath.Base(path), res.GetFieldOrder())
		}
		got, err := MeasureFieldOrder(ctx, bin, path, "file")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(want, got) {
			t.Errorf("%s: measured %q, want one of %q", filepath.Base(path), got, want)
		}
	}
	if _, err := MeasureFieldOrder(ctx, bin, filepath.Join(dir, "missing.avi"), "file"); err == nil {
		t.Error("missing input measured without error")
	}
}

// TestThumbnailArgsDeinterlace: the poster and the sprite of an
// interlaced source are deinterlaced first; a progressive source's are not.
func TestThumbnailArgsDeinterlace(t *testing.T) {
	p := thumbnailPlan{intervalMs: 2000, durationMs: 6000, count: 3, columns: 3, rows: 1, tileWidth: 160, posterAt: 1}
	filters := func(j ThumbnailJob) []string {
		var vf []string
		args := thumbnailArgs(j, p, "/o/poster.jpg", "/o/sprite.jpg")
		for i, a := range args {
			if a == "-vf" {
				vf = append(vf, args[i+1])
			}
		}
		return vf
	}
	vf := filters(ThumbnailJob{Input: "in.ts", Deinterlace: ParityTFF})
	if len(vf) != 2 {
		t.Fatalf("filters %q", vf)
	}
	for _, f := range vf {
		if !strings.HasPrefix(f, "bwdif=mode=send_frame:parity=tff:deint=all,") {
			t.Errorf("interlaced filter %q does not start with bwdif", f)
		}
	}
	for _, f := range filters(ThumbnailJob{Input: "in.mp4"}) {
		if strings.Contains(f, "bwdif") {
			t.Errorf("progressive filter %q deinterlaces", f)
		}
	}
}
