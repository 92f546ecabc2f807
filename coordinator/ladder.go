package coordinator

import (
	"fmt"
	"math"
	"sort"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// rung is one step of a named ladder, before it is fitted to a source.
type rung struct {
	name    string
	height  int32
	bitrate int64 // target video bits per second
	profile string
	level   string
}

// ladders are the shipped named ladders. Heights are display heights for
// landscape sources; the width follows the source's display aspect ratio.
var ladders = map[string][]rung{
	"default": {
		{"1080p", 1080, 5_000_000, "high", "4.0"},
		{"720p", 720, 2_800_000, "high", "3.1"},
		{"480p", 480, 1_400_000, "main", "3.0"},
		{"360p", 360, 800_000, "main", "3.0"},
	},
	"mobile": {
		{"480p", 480, 1_000_000, "main", "3.0"},
		{"360p", 360, 600_000, "main", "3.0"},
		{"240p", 240, 350_000, "baseline", "3.0"},
	},
}

// LadderNames returns the shipped ladder names, sorted.
func LadderNames() []string {
	names := make([]string, 0, len(ladders))
	for n := range ladders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// maxFrameRate caps output frame rates; faster sources are resampled.
const maxFrameRate = 60

// selectRenditions fits a ladder to a source: rungs taller than the source
// are dropped (never upscale); when even the smallest rung is taller, one
// rendition at the source size is made with a bitrate scaled by pixel count.
// Widths keep the source's display aspect ratio and every dimension is even.
func selectRenditions(ladder string, width, height int32) ([]*v1.Rendition, error) {
	rungs, ok := ladders[ladder]
	if !ok {
		return nil, fmt.Errorf("unknown ladder %q (have %v): %w", ladder, LadderNames(), ErrInvalid)
	}
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("source size %dx%d: %w", width, height, ErrInvalid)
	}
	aspect := float64(width) / float64(height)
	var out []*v1.Rendition
	for _, r := range rungs {
		if r.height > height {
			continue
		}
		out = append(out, rendition(r.name, even(float64(r.height)*aspect), r.height, r.bitrate, r.profile, r.level))
	}
	if len(out) == 0 {
		smallest := rungs[len(rungs)-1]
		w, h := evenDown(width), evenDown(height)
		smallestPixels := float64(smallest.height) * float64(smallest.height) * aspect
		bitrate := int64(float64(smallest.bitrate) * float64(w) * float64(h) / smallestPixels)
		bitrate = max(bitrate, 100_000)
		out = append(out, rendition(fmt.Sprintf("%dp", h), w, h, bitrate, smallest.profile, smallest.level))
	}
	return out, nil
}

func rendition(name string, w, h int32, bitrate int64, profile, level string) *v1.Rendition {
	return &v1.Rendition{
		Name:         name,
		Width:        w,
		Height:       h,
		VideoBitrate: bitrate,
		MaxBitrate:   bitrate * 3 / 2,
		Profile:      profile,
		Level:        level,
	}
}

// even rounds to the nearest even integer of at least 2, as 4:2:0 needs.
func even(v float64) int32 {
	e := int32(math.Round(v/2)) * 2
	return max(e, 2)
}

// evenDown rounds down to an even integer of at least 2, so a source-size
// rendition never gains a pixel.
func evenDown(v int32) int32 {
	return max(v&^1, 2)
}

// outputFrameRate is the source rate capped at the job's cap (0 means
// maxFrameRate); unknown rates
// become 25.
func outputFrameRate(src, limit float64) float64 {
	if limit <= 0 || limit > maxFrameRate {
		limit = maxFrameRate
	}
	switch {
	case src <= 0 || math.IsNaN(src) || math.IsInf(src, 0):
		return min(25, limit)
	case src > limit:
		return limit
	default:
		return src
	}
}
