package ffmpeg

import (
	"fmt"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// VideoCodecs returns the RFC 6381 codecs string of the stream VideoArgs
// writes for r: H264Codecs for H.264; for HEVC Main (hvc1) and AV1 Main
// 8-bit, the level follows the frame size (frame rates up to 60).
func VideoCodecs(r *vodfleetv1.Rendition) string {
	h := max(r.GetWidth(), r.GetHeight())
	short := min(r.GetWidth(), r.GetHeight())
	switch r.GetCodec() {
	case vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC:
		// general_level_idc is 30 x level: 3.0 up to 960x540, 3.1 up to
		// 720p, 4.1 up to 1080p60, 5.1 up to 2160p60.
		level := 153
		switch {
		case short <= 540 && h <= 960:
			level = 90
		case short <= 720 && h <= 1280:
			level = 93
		case short <= 1080 && h <= 2048:
			level = 123
		}
		return fmt.Sprintf("hvc1.1.6.L%d.90", level)
	case vodfleetv1.VideoCodec_VIDEO_CODEC_AV1:
		// seq_level_idx: 4 (3.0), 5 (3.1), 8 (4.0), 9 (4.1), 12 (5.0), 13 (5.1).
		level := 13
		switch {
		case short <= 540 && h <= 960:
			level = 4
		case short <= 720 && h <= 1280:
			level = 5
		case short <= 1080 && h <= 2048:
			level = 9
		}
		return fmt.Sprintf("av01.0.%02dM.08", level)
	}
	return H264Codecs(r.GetProfile(), r.GetLevel())
}

// EncoderFor returns the ffmpeg encoder VideoArgs uses for codec c.
func EncoderFor(c vodfleetv1.VideoCodec) string {
	switch c {
	case vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC:
		return "libx265"
	case vodfleetv1.VideoCodec_VIDEO_CODEC_AV1:
		return "libsvtav1"
	}
	return "libx264"
}
