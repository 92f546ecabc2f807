package ffmpeg

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// DropPreroll removes the preroll segment of j's chunk encode from segs
// (the segments of j's playlist, in order) and deletes its file from
// j.OutDir, after checking that the encode is what the chunk expects: a
// first segment numbered FirstSegment-1 that lasts the preroll (within
// half a frame; half a segment with source timing), followed by the
// chunk's own first segment. It returns the chunk's own segments, which
// are exactly those of an encode without preroll. Without a preroll it
// returns segs unchanged.
func DropPreroll(j VideoJob, segs []*vodfleetv1.Segment) ([]*vodfleetv1.Segment, error) {
	c := j.Chunk
	pre := c.preroll()
	if pre == 0 {
		return segs, nil
	}
	want := fmt.Sprintf(SegmentPattern, c.FirstSegment-1)
	first := fmt.Sprintf(SegmentPattern, c.FirstSegment)
	if len(segs) < 2 || segs[0].GetName() != want || segs[1].GetName() != first {
		return nil, fmt.Errorf("want %s then %s, got %s: %w", want, first, segNames(segs), ErrBadPreroll)
	}
	slack := j.SegmentSeconds / 2
	if j.FrameRate > 0 {
		slack = 0.5 / j.FrameRate
	}
	if d := segs[0].GetDurationSeconds(); math.Abs(d-pre) > slack {
		return nil, fmt.Errorf("%s lasts %v s, the preroll is %v s: %w", want, d, pre, ErrBadPreroll)
	}
	if err := os.Remove(filepath.Join(j.OutDir, want)); err != nil {
		return nil, fmt.Errorf("remove preroll segment: %w", err)
	}
	return segs[1:], nil
}

// segNames lists segment names for messages, at most the first three.
func segNames(segs []*vodfleetv1.Segment) []string {
	var out []string
	for i, s := range segs {
		if i == 3 {
			out = append(out, "...")
			break
		}
		out = append(out, s.GetName())
	}
	return out
}
