package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// rung is one rendition of a ladder fitted to a source.
type rung struct {
	name          string
	width, height int
	bitrate       int64 // target video bits per second
	profile       string
	level         string
}

// maxBitrate is the VBV max rate vodfleet sets (1.5x the target).
func (r rung) maxBitrate() int64 { return r.bitrate * 3 / 2 }

// ladders mirrors the shipped ladders of coordinator/ladder.go (unexported
// there). The bench cross-checks the rendition names vodfleet produced.
var ladders = map[string][]rung{
	"default": {
		{"1080p", 0, 1080, 5_000_000, "high", "4.0"},
		{"720p", 0, 720, 2_800_000, "high", "3.1"},
		{"480p", 0, 480, 1_400_000, "main", "3.0"},
		{"360p", 0, 360, 800_000, "main", "3.0"},
	},
	"mobile": {
		{"480p", 0, 480, 1_000_000, "main", "3.0"},
		{"360p", 0, 360, 600_000, "main", "3.0"},
		{"240p", 0, 240, 350_000, "baseline", "3.0"},
	},
}

// fitLadder is coordinator.selectRenditions for square-pixel sources: rungs
// taller than the source are dropped, widths follow the aspect ratio
// (rounded to even), and a source smaller than every rung gets one
// rendition at its own size with a bitrate scaled by pixel count.
func fitLadder(name string, width, height int) ([]rung, error) {
	rungs, ok := ladders[name]
	if !ok {
		return nil, fmt.Errorf("unknown ladder %q", name)
	}
	aspect := float64(width) / float64(height)
	var out []rung
	for _, r := range rungs {
		if r.height > height {
			continue
		}
		r.width = even(float64(r.height) * aspect)
		out = append(out, r)
	}
	if len(out) == 0 {
		s := rungs[len(rungs)-1]
		w, h := max(width&^1, 2), max(height&^1, 2)
		pixels := float64(s.height) * float64(s.height) * aspect
		b := max(int64(float64(s.bitrate)*float64(w)*float64(h)/pixels), 100_000)
		out = append(out, rung{fmt.Sprintf("%dp", h), w, h, b, s.profile, s.level})
	}
	return out, nil
}

func even(v float64) int { return max(int(math.Round(v/2))*2, 2) }

// parseSize reads "WxH".
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 2 || h < 2 {
		return 0, 0, fmt.Errorf("bad size %q (want WxH)", s)
	}
	return w, h, nil
}

func ladderCmd(args []string) error {
	fs := flag.NewFlagSet("ladder", flag.ExitOnError)
	size := fs.String("size", "1920x1080", "source size WxH")
	name := fs.String("ladder", "default", "ladder name")
	_ = fs.Parse(args)
	w, h, err := parseSize(*size)
	if err != nil {
		return err
	}
	rs, err := fitLadder(*name, w, h)
	if err != nil {
		return err
	}
	for _, r := range rs {
		fmt.Println(r.name, r.width, r.height, r.bitrate, r.maxBitrate(), r.profile, r.level)
	}
	return nil
}
