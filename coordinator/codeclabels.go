package coordinator

import (
	"maps"
	"strings"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
)

// Video encode tasks require the codec label of their rendition
// ("codec.h264", "codec.hevc", "codec.av1", see ffmpeg.CodecLabel), not a
// particular encoder: an agent announces codec.h264 when libx264 works or
// when its --hwaccel path encodes H.264, and it picks the encoder itself.
// Audio encodes still require labelAAC.

// withCodecLabels returns an agent's announced labels, completed for
// agents from before codec labels: an agent announcing no "codec.*" label
// at all gets the codec of every software encoder it announces
// (encoder.libx264 → codec.h264, ...), which is what it can encode. A
// newer agent's labels are taken as they are: it leaves out a codec on
// purpose when the encoder's test encode failed.
func withCodecLabels(labels map[string]string) map[string]string {
	for k := range labels {
		if strings.HasPrefix(k, "codec.") {
			return labels
		}
	}
	out := maps.Clone(labels)
	for _, c := range ffmpeg.VideoCodecList {
		if labels["encoder."+ffmpeg.EncoderFor(c)] == "true" {
			if out == nil {
				out = map[string]string{}
			}
			out[ffmpeg.CodecLabel(c)] = "true"
		}
	}
	return out
}
