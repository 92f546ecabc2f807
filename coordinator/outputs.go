package coordinator

import (
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// resolveOutputs fills the defaults of a job's outputs: HLS with CMAF
// segments, DASH, thumbnails and subtitles on; MP4 and HDS off.
func resolveOutputs(o *v1.Outputs) *v1.Outputs {
	out := &v1.Outputs{}
	if o != nil {
		out = proto.Clone(o).(*v1.Outputs)
	}
	on := func(p **bool) {
		if *p == nil {
			*p = proto.Bool(true)
		}
	}
	on(&out.Hls)
	on(&out.Dash)
	on(&out.Thumbnails)
	on(&out.Subtitles)
	if out.HlsSegments == v1.SegmentFormat_SEGMENT_FORMAT_UNSPECIFIED {
		out.HlsSegments = v1.SegmentFormat_SEGMENT_FORMAT_CMAF
	}
	return out
}
