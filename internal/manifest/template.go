package manifest

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// segmentTemplate derives a DASH media template ("seg_$Number%05d$.m4s")
// and the start number from a track's segment names, and checks that every
// name is what the template yields for consecutive numbers, so DASH
// requests exactly the files HLS lists.
func segmentTemplate(segs []*vodfleetv1.Segment) (media string, start int64, err error) {
	if len(segs) == 0 {
		return "", 0, ErrNoSegments
	}
	first := segs[0].GetName()
	// The number is the last run of digits before the extension (which
	// may hold digits itself, as in ".m4s").
	stem := strings.TrimSuffix(first, path.Ext(first))
	end := strings.LastIndexAny(stem, "0123456789") + 1
	if end == 0 {
		return "", 0, fmt.Errorf("%q has no number: %w", first, ErrSegmentNames)
	}
	begin := end - 1
	for begin > 0 && first[begin-1] >= '0' && first[begin-1] <= '9' {
		begin--
	}
	digits := first[begin:end]
	if start, err = strconv.ParseInt(digits, 10, 64); err != nil {
		return "", 0, fmt.Errorf("%q: %v: %w", first, err, ErrSegmentNames)
	}
	prefix, suffix := first[:begin], first[end:]
	width := 0
	if len(digits) > 1 && digits[0] == '0' {
		width = len(digits)
	}
	for i, s := range segs {
		want := prefix + fmt.Sprintf("%0*d", width, start+int64(i)) + suffix
		if s.GetName() != want {
			return "", 0, fmt.Errorf("segment %d is %q, want %q: %w", i, s.GetName(), want, ErrSegmentNames)
		}
	}
	number := "$Number$"
	if width > 0 {
		number = fmt.Sprintf("$Number%%0%dd$", width)
	}
	return escapeTemplate(prefix) + number + escapeTemplate(suffix), start, nil
}

// escapeTemplate escapes "$" in literal template text, as DASH requires.
func escapeTemplate(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// timelineEntry is one S element: d repeated r+1 times from t.
type timelineEntry struct {
	t, d int64
	r    int
}

// timeline builds a SegmentTimeline in the given timescale. Start times are
// the cumulative durations rounded once each (t_i = round(sum_{k<i} d_k *
// timescale)) and every duration is the difference of neighbouring starts,
// so rounding never accumulates: the last segment ends at the rounded total.
// Equal consecutive durations are merged with @r.
func timeline(segs []*vodfleetv1.Segment, timescale int64) []timelineEntry {
	var out []timelineEntry
	var sum float64
	prev := int64(0)
	for _, s := range segs {
		sum += s.GetDurationSeconds()
		next := int64(math.Round(sum * float64(timescale)))
		d := next - prev
		if n := len(out); n > 0 && out[n-1].d == d {
			out[n-1].r++
		} else {
			out = append(out, timelineEntry{t: prev, d: d})
		}
		prev = next
	}
	return out
}

// timescaleOf picks a timescale in which segment durations are normally
// whole numbers: the sample rate for audio (AAC frames are 1024 samples)
// and 90 kHz for video (one frame is a whole number of ticks at 24, 25, 30,
// 50, 60, 30000/1001 and 60000/1001 fps). Durations that are not whole are
// still placed without drift by timeline.
func timescaleOf(t *vodfleetv1.TrackOutput) int64 {
	if isAudio(t) {
		return int64(t.GetSampleRate())
	}
	return 90000
}
