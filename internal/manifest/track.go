package manifest

import (
	"math"
	"path"
	"sort"
	"strconv"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// isVideo and isAudio classify a track the way encode tasks fill it.
func isVideo(t *vodfleetv1.TrackOutput) bool { return t.GetWidth() > 0 }
func isAudio(t *vodfleetv1.TrackOutput) bool { return !isVideo(t) && t.GetSampleRate() > 0 }

// split returns the video tracks, highest bandwidth first (ties: taller,
// then by directory, so output is deterministic), and the audio tracks in
// input order. Tracks that are neither are ignored.
func split(tracks []*vodfleetv1.TrackOutput) (video, audio []*vodfleetv1.TrackOutput) {
	for _, t := range tracks {
		switch {
		case isVideo(t):
			video = append(video, t)
		case isAudio(t):
			audio = append(audio, t)
		}
	}
	sort.SliceStable(video, func(i, j int) bool {
		a, b := video[i], video[j]
		if pa, pb := peak(a), peak(b); pa != pb {
			return pa > pb
		}
		if a.GetHeight() != b.GetHeight() {
			return a.GetHeight() > b.GetHeight()
		}
		return a.GetDir() < b.GetDir()
	})
	return video, audio
}

// peak is the track's peak bitrate in bits per second: the measured value,
// else the highest per-segment rate from segment sizes, else the average.
func peak(t *vodfleetv1.TrackOutput) int64 {
	if p := t.GetPeakBitrate(); p > 0 {
		return p
	}
	var p float64
	for _, s := range t.GetSegments() {
		if d := s.GetDurationSeconds(); d > 0 {
			p = math.Max(p, float64(s.GetSize())*8/d)
		}
	}
	if p > 0 {
		return int64(math.Ceil(p))
	}
	return average(t)
}

// average is the track's average bitrate: the measured value, else total
// size over total duration.
func average(t *vodfleetv1.TrackOutput) int64 {
	if a := t.GetAverageBitrate(); a > 0 {
		return a
	}
	var bytes int64
	for _, s := range t.GetSegments() {
		bytes += s.GetSize()
	}
	if d := duration(t); d > 0 {
		return int64(math.Ceil(float64(bytes) * 8 / d))
	}
	return 0
}

// duration is the sum of the track's segment durations in seconds.
func duration(t *vodfleetv1.TrackOutput) float64 {
	var d float64
	for _, s := range t.GetSegments() {
		d += s.GetDurationSeconds()
	}
	return d
}

// maxSegment is the longest segment duration of the track in seconds.
func maxSegment(t *vodfleetv1.TrackOutput) float64 {
	var d float64
	for _, s := range t.GetSegments() {
		d = math.Max(d, s.GetDurationSeconds())
	}
	return d
}

// join makes a URI relative to the asset root from a track directory and a
// name inside it.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return path.Join(dir, name)
}

// frameRateRatio formats a frame rate as DASH FrameRateType ("25",
// "30000/1001"), recognising the NTSC family.
func frameRateRatio(f float64) string {
	if n := math.Round(f); math.Abs(f-n) < 1e-3 {
		return strconv.FormatInt(int64(n), 10)
	}
	if n := math.Round(f * 1.001); math.Abs(f-n/1.001) < 1e-3 {
		return strconv.FormatInt(int64(n)*1000, 10) + "/1001"
	}
	// Other rates: milli-frames per second is precise enough for players.
	return strconv.FormatInt(int64(math.Round(f*1000)), 10) + "/1000"
}
