package ffmpeg

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/hds"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// TestMuxHDS remuxes a 5 s rendition cut in 2 s segments: three fragments
// on the segment boundaries, each starting with a keyframe and holding
// video and audio, covering the source.
func TestMuxHDS(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	src, videoDir, audioDir := cmafRenditions(t)
	want := probeMedia(t, src).seconds(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := testmedia.Logger(t, hclog.Debug)

	dir := filepath.Join(t.TempDir(), "hds")
	r, err := MuxHDS(ctx, log, bin, videoDir, audioDir, dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bootstrap != "stream0.abst" || r.Media != "stream0" || len(r.Fragments) != 3 || r.Fragments[2] != "stream0Seg1-Frag3" {
		t.Fatalf("rendition %+v", r)
	}
	if math.Abs(r.Duration-want) > 0.2 || r.BitrateKbps <= 0 || len(r.Metadata) == 0 {
		t.Fatalf("duration %.3f s (source %.3f s), bitrate %d kbit/s, %d bytes of metadata", r.Duration, want, r.BitrateKbps, len(r.Metadata))
	}
	size := int64(0)
	for i, name := range append([]string{r.Bootstrap}, r.Fragments...) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(data))
		if i == 0 {
			continue
		}
		info, err := hds.ParseFragment(data)
		if err != nil {
			t.Fatal(err)
		}
		if !info.FirstVideoKeyframe || info.VideoKeyframes != 1 || info.Audio == 0 {
			t.Errorf("%s: %+v, want one keyframe first, and audio", name, info)
		}
		// Fragment i starts on the segment grid (ms timestamps).
		if start := float64(info.First) / 1000; math.Abs(start-float64(2*(i-1))) > 0.05 {
			t.Errorf("%s starts at %.3f s", name, start)
		}
	}
	if size != r.Size {
		t.Errorf("size %d, files %d", r.Size, size)
	}

	// Video only.
	r, err = MuxHDS(ctx, log, bin, videoDir, "", filepath.Join(t.TempDir(), "hds"), 2)
	if err != nil || len(r.Fragments) != 3 {
		t.Fatalf("video only: %+v %v", r, err)
	}
}

func TestMuxHDSErrors(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	ctx := context.Background()
	log := testmedia.Logger(t, hclog.Debug)
	dir := t.TempDir()
	if _, err := MuxHDS(ctx, log, bin, dir, "", "", 2); !errors.Is(err, ErrBadJob) {
		t.Errorf("no output: %v", err)
	}
	if _, err := MuxHDS(ctx, log, bin, dir, "", filepath.Join(dir, "o"), 0); !errors.Is(err, ErrBadJob) {
		t.Errorf("no segment duration: %v", err)
	}
	if _, err := MuxHDS(ctx, log, bin, filepath.Join(dir, "missing"), "", filepath.Join(dir, "o"), 2); !errors.Is(err, ErrBadPlaylist) {
		t.Errorf("missing playlist: %v", err)
	}
}
