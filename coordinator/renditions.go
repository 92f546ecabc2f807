package coordinator

import (
	"fmt"
	"math"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// maxRenditions bounds the custom renditions of one job.
const maxRenditions = 8

// planRenditions fits the job's renditions to the probed source: the
// custom renditions when the job has any, else its named ladder; both
// with the job's codec unless a rendition names its own.
func planRenditions(job *v1.Job, probe *v1.ProbeResult) ([]*v1.Rendition, error) {
	opts := job.GetEncode()
	var out []*v1.Rendition
	if reqs := opts.GetRenditions(); len(reqs) > 0 {
		var err error
		if out, err = customRenditions(reqs, probe.GetWidth(), probe.GetHeight()); err != nil {
			return nil, err
		}
	} else {
		var err error
		if out, err = selectRenditions(job.GetLadder(), probe.GetWidth(), probe.GetHeight()); err != nil {
			return nil, err
		}
	}
	for _, r := range out {
		if r.GetCodec() == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
			r.Codec = opts.GetCodec()
		}
		if r.GetCodec() == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
			r.Codec = v1.VideoCodec_VIDEO_CODEC_H264
		}
		if r.GetCodec() != v1.VideoCodec_VIDEO_CODEC_H264 {
			r.Profile, r.Level = "", "" // H.264 names; the encoder picks
		}
	}
	return out, nil
}

// customRenditions fits the requested renditions to a width x height
// source: the width follows the display aspect ratio when only the height
// is given, sizes are even, renditions taller than the source are dropped
// (never upscale) and, when all are, one at the source size remains.
// Bitrates left at 0 scale with the pixel count (0.1 bit per pixel per
// frame at 30 fps, like the default ladder's 720p).
func customRenditions(reqs []*v1.RenditionRequest, width, height int32) ([]*v1.Rendition, error) {
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("source size %dx%d: %w", width, height, ErrInvalid)
	}
	aspect := float64(width) / float64(height)
	var out []*v1.Rendition
	seen := map[string]bool{}
	for _, q := range reqs {
		h := q.GetHeight()
		if h > height {
			continue
		}
		w := q.GetWidth()
		if w <= 0 {
			w = even(float64(h) * aspect)
		}
		if w > width {
			continue
		}
		out = append(out, fitted(q, evenDown(w), evenDown(h)))
	}
	if len(out) == 0 && len(reqs) > 0 {
		// Every rendition would upscale: keep the smallest at source size.
		smallest := reqs[0]
		for _, q := range reqs {
			if q.GetHeight() < smallest.GetHeight() {
				smallest = q
			}
		}
		r := fitted(smallest, evenDown(width), evenDown(height))
		r.Name = fmt.Sprintf("%dp", r.GetHeight())
		out = append(out, r)
	}
	for _, r := range out {
		if seen[r.GetName()] {
			return nil, fmt.Errorf("two renditions are named %q: %w", r.GetName(), ErrInvalid)
		}
		seen[r.GetName()] = true
	}
	return out, nil
}

// fitted makes the rendition of request q at w x h.
func fitted(q *v1.RenditionRequest, w, h int32) *v1.Rendition {
	name := q.GetName()
	if name == "" {
		name = fmt.Sprintf("%dp", h)
	}
	bitrate := q.GetVideoBitrate()
	if bitrate <= 0 {
		bitrate = max(int64(math.Round(float64(w)*float64(h)*30*0.1/1000))*1000, 100_000)
	}
	maxRate := q.GetMaxBitrate()
	if maxRate <= 0 {
		maxRate = bitrate * 3 / 2
	}
	profile, level := "high", ""
	if h <= 480 {
		profile = "main"
	}
	return &v1.Rendition{
		Name:         name,
		Width:        w,
		Height:       h,
		VideoBitrate: bitrate,
		MaxBitrate:   maxRate,
		BufferSize:   q.GetBufferSize(),
		Profile:      profile,
		Level:        level,
		Codec:        q.GetCodec(),
	}
}

// validateEncode rejects malformed encoding options at submit.
func validateEncode(o *v1.EncodeOptions) error {
	if o == nil {
		return nil
	}
	if n := len(o.GetRenditions()); n > maxRenditions {
		return fmt.Errorf("%d renditions, at most %d: %w", n, maxRenditions, ErrInvalid)
	}
	for i, q := range o.GetRenditions() {
		switch {
		case q.GetHeight() < 2 || q.GetHeight() > 4320:
			return fmt.Errorf("rendition %d: height %d is outside 2..4320: %w", i+1, q.GetHeight(), ErrInvalid)
		case q.GetWidth() < 0 || q.GetWidth() > 7680:
			return fmt.Errorf("rendition %d: width %d is outside 0..7680: %w", i+1, q.GetWidth(), ErrInvalid)
		case q.GetVideoBitrate() < 0 || q.GetVideoBitrate() > 200_000_000 || q.GetMaxBitrate() < 0 || q.GetBufferSize() < 0:
			return fmt.Errorf("rendition %d: bitrates must be 0..200 Mb/s: %w", i+1, ErrInvalid)
		case q.GetMaxBitrate() > 0 && q.GetMaxBitrate() < q.GetVideoBitrate():
			return fmt.Errorf("rendition %d: max bitrate below the bitrate: %w", i+1, ErrInvalid)
		case q.GetName() != "" && !renditionDirName(q.GetName()):
			return fmt.Errorf("rendition %d: name %q must be 1-32 characters without '/', '\\', '.', spaces or a leading '-': %w", i+1, q.GetName(), ErrInvalid)
		}
		if _, ok := v1.VideoCodec_name[int32(q.GetCodec())]; !ok {
			return fmt.Errorf("rendition %d: unknown codec %d: %w", i+1, q.GetCodec(), ErrInvalid)
		}
	}
	if _, ok := v1.VideoCodec_name[int32(o.GetCodec())]; !ok {
		return fmt.Errorf("unknown codec %d: %w", o.GetCodec(), ErrInvalid)
	}
	if f := o.GetMaxFrameRate(); f < 0 || f > maxFrameRate || math.IsNaN(f) {
		return fmt.Errorf("max frame rate %g is outside 0..%d: %w", f, maxFrameRate, ErrInvalid)
	}
	if c := o.GetChunkSeconds(); math.IsNaN(c) || math.IsInf(c, 0) || (c > 0 && c < 1) {
		return fmt.Errorf("chunk length %gs: at least 1 s (or negative for none): %w", c, ErrInvalid)
	}
	if b := o.GetAudioBitrate(); b < 0 || b > 1_000_000 {
		return fmt.Errorf("audio bitrate %d is outside 0..1000000: %w", b, ErrInvalid)
	}
	if _, ok := v1.SegmentFormat_name[int32(o.GetOutputs().GetHlsSegments())]; !ok {
		return fmt.Errorf("unknown HLS segment format: %w", ErrInvalid)
	}
	out := resolveOutputs(o.GetOutputs())
	if !out.GetHls() && !out.GetDash() && !out.GetMp4() && !out.GetHds() {
		return fmt.Errorf("no output: turn on HLS, DASH, MP4 or HDS: %w", ErrInvalid)
	}
	if out.GetHds() && !anyH264(o) {
		return fmt.Errorf("hds carries H.264 only and no rendition is H.264: %w", ErrInvalid)
	}
	return nil
}

// anyH264 reports whether o makes at least one H.264 rendition (the
// ladder's renditions use o's codec; custom ones theirs or o's).
func anyH264(o *v1.EncodeOptions) bool {
	if len(o.GetRenditions()) == 0 {
		return isH264(o.GetCodec())
	}
	for _, r := range o.GetRenditions() {
		c := r.GetCodec()
		if c == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
			c = o.GetCodec()
		}
		if isH264(c) {
			return true
		}
	}
	return false
}
