package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// loadSpec reads a job file: a SubmitJobRequest in its protobuf JSON form
// (field names as in job.proto, snake_case or camelCase), or the same as
// YAML. Unknown fields are errors, so a typo does not silently fall back
// to a default.
func loadSpec(path string) (*v1.SubmitJobRequest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("job file: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return nil, fmt.Errorf("job file %s: %w", path, err)
		}
	}
	req := &v1.SubmitJobRequest{}
	if err := protojson.Unmarshal(data, req); err != nil {
		return nil, fmt.Errorf("job file %s: %w", path, err)
	}
	return req, nil
}

// encodeFlags are the submit flags that shape the encode; each one that is
// given overrides the job file.
type encodeFlags struct {
	renditions  renditionFlag
	codec       string
	maxFPS      float64
	chunk       float64
	hlsSegments string
	noHLS       bool
	noDASH      bool
	mp4         bool
	hds         bool
	noThumbs    bool
	noSubs      bool
	audioRate   string
	surround    bool
}

func (e *encodeFlags) register(fs *flag.FlagSet) {
	fs.Var(&e.renditions, "rendition", "custom rendition (repeatable), replacing the ladder: HEIGHT, or key=value list of height, width, bitrate, maxrate, bufsize, codec, name, e.g. height=720,bitrate=3M,codec=hevc")
	fs.StringVar(&e.codec, "codec", "", "video codec: h264 (default), hevc, av1")
	fs.Float64Var(&e.maxFPS, "max-fps", 0, "frame-rate cap (default 60)")
	fs.Float64Var(&e.chunk, "chunk-seconds", 0, "chunk length for chunk-parallel encoding (0: coordinator default, -1: no chunking)")
	fs.StringVar(&e.hlsSegments, "hls-segments", "", "HLS segment format: cmaf (default) or ts")
	fs.BoolVar(&e.noHLS, "no-hls", false, "do not write HLS playlists")
	fs.BoolVar(&e.noDASH, "no-dash", false, "do not write a DASH MPD")
	fs.BoolVar(&e.mp4, "mp4", false, "also write a progressive MP4 per rendition")
	fs.BoolVar(&e.hds, "hds", false, "also write Adobe HDS (legacy, for Flash-era players): hds/index.f4m over the H.264 renditions")
	fs.BoolVar(&e.noThumbs, "no-thumbnails", false, "do not make a poster, sprite sheet and thumbnail track")
	fs.BoolVar(&e.noSubs, "no-subtitles", false, "do not carry text subtitles over as WebVTT")
	fs.StringVar(&e.audioRate, "audio-bitrate", "", "AAC bitrate per audio track, e.g. 128k (default)")
	fs.BoolVar(&e.surround, "keep-surround", false, "also encode a 5.1 AAC track from each source track of 6+ channels (beside its stereo downmix)")
}

// apply writes the flags that were set on fs into req.
func (e *encodeFlags) apply(fs *flag.FlagSet, req *v1.SubmitJobRequest) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if req.Encode == nil {
		req.Encode = &v1.EncodeOptions{}
	}
	enc := req.Encode
	if enc.Outputs == nil {
		enc.Outputs = &v1.Outputs{}
	}
	out := enc.Outputs
	if set["rendition"] {
		enc.Renditions = e.renditions.list
	}
	if set["codec"] {
		c, err := parseCodec(e.codec)
		if err != nil {
			return err
		}
		enc.Codec = c
	}
	if set["max-fps"] {
		enc.MaxFrameRate = e.maxFPS
	}
	if set["chunk-seconds"] {
		enc.ChunkSeconds = e.chunk
	}
	if set["hls-segments"] {
		switch strings.ToLower(e.hlsSegments) {
		case "cmaf", "fmp4":
			out.HlsSegments = v1.SegmentFormat_SEGMENT_FORMAT_CMAF
		case "ts":
			out.HlsSegments = v1.SegmentFormat_SEGMENT_FORMAT_TS
		default:
			return fmt.Errorf("--hls-segments %q: cmaf or ts", e.hlsSegments)
		}
	}
	if set["no-hls"] {
		out.Hls = proto.Bool(!e.noHLS)
	}
	if set["no-dash"] {
		out.Dash = proto.Bool(!e.noDASH)
	}
	if set["mp4"] {
		out.Mp4 = e.mp4
	}
	if set["hds"] {
		out.Hds = e.hds
	}
	if set["no-thumbnails"] {
		out.Thumbnails = proto.Bool(!e.noThumbs)
	}
	if set["no-subtitles"] {
		out.Subtitles = proto.Bool(!e.noSubs)
	}
	if set["audio-bitrate"] {
		b, err := parseBitrate(e.audioRate)
		if err != nil {
			return fmt.Errorf("--audio-bitrate: %w", err)
		}
		enc.AudioBitrate = b
	}
	if set["keep-surround"] {
		enc.KeepSurround = e.surround
	}
	return nil
}

// renditionFlag collects --rendition values.
type renditionFlag struct{ list []*v1.RenditionRequest }

func (r *renditionFlag) String() string { return fmt.Sprint(len(r.list), " renditions") }

// Set parses "720" or "height=720,bitrate=3M,codec=hevc,name=hd".
func (r *renditionFlag) Set(s string) error {
	q := &v1.RenditionRequest{}
	if h, err := strconv.Atoi(strings.TrimSuffix(s, "p")); err == nil {
		q.Height = int32(h)
		r.list = append(r.list, q)
		return nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("rendition %q: %q is not key=value", s, kv)
		}
		var err error
		switch k {
		case "height", "width":
			var n int
			if n, err = strconv.Atoi(v); err == nil {
				if k == "height" {
					q.Height = int32(n)
				} else {
					q.Width = int32(n)
				}
			}
		case "bitrate":
			q.VideoBitrate, err = parseBitrate(v)
		case "maxrate":
			q.MaxBitrate, err = parseBitrate(v)
		case "bufsize":
			q.BufferSize, err = parseBitrate(v)
		case "codec":
			q.Codec, err = parseCodec(v)
		case "name":
			q.Name = v
		default:
			err = errors.New("unknown key (height, width, bitrate, maxrate, bufsize, codec, name)")
		}
		if err != nil {
			return fmt.Errorf("rendition %q: %s: %w", s, k, err)
		}
	}
	if q.Height == 0 {
		return fmt.Errorf("rendition %q: height is required", s)
	}
	r.list = append(r.list, q)
	return nil
}

// parseCodec reads h264, hevc (h265) or av1.
func parseCodec(s string) (v1.VideoCodec, error) {
	switch strings.ToLower(s) {
	case "h264", "avc", "x264":
		return v1.VideoCodec_VIDEO_CODEC_H264, nil
	case "hevc", "h265", "x265":
		return v1.VideoCodec_VIDEO_CODEC_HEVC, nil
	case "av1":
		return v1.VideoCodec_VIDEO_CODEC_AV1, nil
	}
	return 0, fmt.Errorf("unknown codec %q (h264, hevc, av1)", s)
}

// parseBitrate reads bits per second with an optional k or M suffix.
func parseBitrate(s string) (int64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bitrate %q: a number of bits per second, optionally with k or M", s)
	}
	return int64(f * mult), nil
}
