package manifest

import (
	"fmt"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// segments returns n segments of d seconds named seg_00001.m4s on, each
// of size bytes.
func segments(n int, d float64, size int64) []*vodfleetv1.Segment {
	out := make([]*vodfleetv1.Segment, n)
	for i := range out {
		out[i] = &vodfleetv1.Segment{Name: fmt.Sprintf("seg_%05d.m4s", i+1), DurationSeconds: d, Size: size}
	}
	return out
}

// ladder is a typical asset: three video rungs given out of order, one
// audio track whose last segment is short.
func ladder() []*vodfleetv1.TrackOutput {
	audioSegs := segments(3, 2.005333, 32_000)
	audioSegs = append(audioSegs, &vodfleetv1.Segment{Name: "seg_00004.m4s", DurationSeconds: 0.042667, Size: 700})
	return []*vodfleetv1.TrackOutput{
		{Dir: "v480p", InitName: "init.mp4", Segments: segments(3, 2, 250_000), Codecs: "avc1.4d401f",
			AverageBitrate: 900_000, PeakBitrate: 1_100_000, Width: 854, Height: 480, FrameRate: 25},
		{Dir: "audio", InitName: "init.mp4", Segments: audioSegs, Codecs: "mp4a.40.2",
			AverageBitrate: 128_000, PeakBitrate: 130_000, SampleRate: 48000, Channels: 2},
		{Dir: "v1080p", InitName: "init.mp4", Segments: segments(3, 2, 1_000_000), Codecs: "avc1.640028",
			AverageBitrate: 4_500_000, PeakBitrate: 5_000_000, Width: 1920, Height: 1080, FrameRate: 30000.0 / 1001},
		{Dir: "v720p", InitName: "init.mp4", Segments: segments(3, 2, 600_000), Codecs: "avc1.64001f",
			AverageBitrate: 2_400_000, PeakBitrate: 2_600_000, Width: 1280, Height: 720, FrameRate: 25},
	}
}
