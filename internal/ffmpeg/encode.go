package ffmpeg

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// File names every encode writes inside its output directory. The manifest
// writers and the uploader rely on them.
const (
	// PlaylistName is the media playlist ffmpeg writes; ParseMediaPlaylist
	// reads it back to list the segments.
	PlaylistName = "index.m3u8"
	// InitName is the CMAF initialization segment.
	InitName = "init.mp4"
	// SegmentPattern is the printf pattern of media segment names; numbering
	// starts at FirstSegmentNumber.
	SegmentPattern = "seg_%05d.m4s"
	// FirstSegmentNumber is the number of the first media segment.
	FirstSegmentNumber = 1
)

// DefaultPreset is the x264 preset used when VideoJob.Preset is empty: a
// fleet trades a little compression for much higher throughput.
const DefaultPreset = "veryfast"

// VideoJob describes one video rendition encode.
type VideoJob struct {
	// Input is a local path or URL ffmpeg reads.
	Input string
	// Whitelist is the -protocol_whitelist for Input (see ProbeOptions).
	Whitelist string
	// Rendition is the rung to produce; Width and Height are used exactly
	// (the planner already kept the display aspect ratio).
	Rendition *vodfleetv1.Rendition
	// FrameRate is the constant output frame rate. Zero keeps the source
	// timing and drops the -g/-keyint_min pinning (keyframes are still
	// forced at every segment boundary).
	FrameRate float64
	// SegmentSeconds is the target segment duration; keyframes are forced
	// at every multiple of it.
	SegmentSeconds float64
	// OutDir receives PlaylistName, InitName and the segments. It must
	// exist.
	OutDir string
	// Preset is the x264/x265 preset; empty means DefaultPreset.
	Preset string
	// Chunk, when set, limits the encode to a slice of the timeline.
	Chunk *Chunk
	// HWAccel, when set, encodes H.264 and HEVC with that hardware path's
	// encoder (see HWAccel); the keyframe grid is the software path's.
	// The jobs of one MultiVideoArgs run may mix software and hardware
	// renditions, but only one hardware path.
	HWAccel HWAccel
	// Deinterlace is the field parity of an interlaced source (ParityTFF
	// or ParityBFF, see DeinterlaceParity); the frames are then
	// deinterlaced with bwdif before scaling. Empty for progressive
	// sources.
	Deinterlace string
}

// Chunk is a slice of the source timeline encoded on its own. Start is a
// multiple of the segment duration, so the chunk's keyframes (forced at
// every segment boundary counted from the chunk start) fall where an
// unchunked encode puts them; output timestamps are shifted by Start and
// fragments carry their real decode time (frag_discont), so the chunks'
// segments concatenate into one continuous track.
type Chunk struct {
	// Start is the chunk start on the source timeline, in seconds.
	Start float64
	// Duration is the chunk length; 0 means to the end of the source.
	Duration float64
	// FirstSegment is the number of the chunk's first segment.
	FirstSegment int
	// Preroll, when positive, is how much of the source before Start is
	// encoded too (see ChunkPreroll), so that x264's rate control has
	// settled when the chunk's first segment starts: without it the
	// first frames of every chunk get a cold guess and lower quality than
	// the same frames of an unchunked encode. The preroll is written as
	// one extra, short segment numbered FirstSegment-1 (-hls_init_time),
	// which DropPreroll checks and deletes; the chunk's own segments keep
	// the names, durations and timestamps they have without preroll.
	Preroll float64
}

// start is where the chunk's encode starts on the source timeline: Start,
// or earlier by the preroll.
func (c *Chunk) start() float64 { return roundMicros(c.Start - c.preroll()) }

// preroll is the preroll in effect: none for a chunk at the start of the
// source or numbered from the first segment.
func (c *Chunk) preroll() float64 {
	if c == nil || c.Preroll <= 0 || c.FirstSegment <= FirstSegmentNumber {
		return 0
	}
	return roundMicros(math.Min(c.Preroll, c.Start))
}

// HonoursForcedKeyframes reports whether codec c's encoder puts a
// keyframe wherever -force_key_frames asks. libsvtav1 (SVT-AV1 1.4 with
// ffmpeg 5.1) does not: it keeps its own keyint grid counted from the
// first frame. A chunk preroll needs a keyframe at the chunk start, a
// preroll's length after the first frame, so AV1 chunks get no preroll
// and start on their own first frame.
func HonoursForcedKeyframes(c vodfleetv1.VideoCodec) bool {
	return c != vodfleetv1.VideoCodec_VIDEO_CODEC_AV1
}

// ChunkPreroll is the preroll (Chunk.Preroll) for chunks of an encode at
// frameRate (0: source timing) with segments of segmentSeconds: about a
// second, which is enough for x264's rate control to settle; a whole
// number of frames, so the chunk's frames keep their place on the output
// frame grid; at most one segment.
func ChunkPreroll(frameRate, segmentSeconds float64) float64 {
	p := 1.0
	if frameRate > 0 {
		p = math.Ceil(frameRate-1e-9) / frameRate
	}
	return roundMicros(math.Min(p, segmentSeconds))
}

// roundMicros rounds seconds to the microsecond, ffmpeg's time precision,
// so that sums like Start-Preroll print without float noise.
func roundMicros(s float64) float64 { return math.Round(s*1e6) / 1e6 }

// AudioJob describes the AAC audio encode.
type AudioJob struct {
	// Input is a local path or URL ffmpeg reads.
	Input string
	// Whitelist is the -protocol_whitelist for Input (see ProbeOptions).
	Whitelist string
	// Audio is the AAC track to produce.
	Audio *vodfleetv1.AudioSpec
	// SegmentSeconds is the target segment duration.
	SegmentSeconds float64
	// OutDir receives PlaylistName, InitName and the segments.
	OutDir string
	// StreamIndex selects the source audio stream among its audio
	// streams (0 is the first).
	StreamIndex int
}

// VideoArgs returns the ffmpeg arguments (without the binary) that encode
// the first video stream of j.Input to CMAF segments with closed GOPs and
// a keyframe at every segment boundary, plus an HLS media playlist.
func VideoArgs(j VideoJob) []string {
	r := j.Rendition
	args := videoInputArgs(j, deviceOf([]VideoJob{j}))
	vf := "scale=" + itoa(int64(r.GetWidth())) + ":" + itoa(int64(r.GetHeight())) + ",setsar=1"
	if d := deinterlaceFilter(j.Deinterlace); d != "" {
		vf = d + "," + vf
	}
	args = append(args, videoOutputArgs(j, "0:v:0", vf+hwUploadFilter(j.HWAccel, r.GetCodec()))...)
	return append(args, nullOutputArgs(j)...)
}

// MultiVideoArgs is VideoArgs for several renditions of the same input and
// timeline slice (equal Input, Whitelist, Chunk, FrameRate and
// SegmentSeconds) in one ffmpeg run: the source is decoded once and split
// to one scaler and encoder per rendition, each writing its own OutDir.
// Decoding a high-bitrate source costs about as much as encoding a small
// rendition, so this is what keeps a ladder cheap. An interlaced source
// (Deinterlace, equal too) is deinterlaced once, before the split.
func MultiVideoArgs(jobs []VideoJob) []string {
	if len(jobs) == 1 {
		return VideoArgs(jobs[0])
	}
	args := videoInputArgs(jobs[0], deviceOf(jobs))
	graph := "[0:v:0]"
	if d := deinterlaceFilter(jobs[0].Deinterlace); d != "" {
		graph += d + ","
	}
	graph += "split=" + itoa(int64(len(jobs)))
	for i := range jobs {
		graph += "[s" + itoa(int64(i)) + "]"
	}
	for i, j := range jobs {
		n := itoa(int64(i))
		graph += ";[s" + n + "]scale=" + itoa(int64(j.Rendition.GetWidth())) + ":" + itoa(int64(j.Rendition.GetHeight())) + ",setsar=1" +
			hwUploadFilter(j.HWAccel, j.Rendition.GetCodec()) + "[v" + n + "]"
	}
	args = append(args, "-filter_complex", graph)
	for i, j := range jobs {
		args = append(args, videoOutputArgs(j, "[v"+itoa(int64(i))+"]", "")...)
	}
	return append(args, nullOutputArgs(jobs[0])...)
}

// videoInputArgs are the input options of a video encode: the options
// opening hw's device (none for HWNone, see deviceOf); a chunk seeks
// accurately to its start (-ss before -i: decoding starts at the previous
// keyframe and frames before the start are dropped).
func videoInputArgs(j VideoJob, hw HWAccel) []string {
	extra := hwInitArgs(hw)
	if c := j.Chunk; c != nil {
		extra = append(extra, "-ss", num(c.start()))
	}
	return inputArgs(j.Input, j.Whitelist, extra...)
}

// videoOutputArgs are the options and HLS output of one rendition, fed by
// stream (an input stream or a filter graph label); vf, if set, is its
// filter chain. A chunk's output stops at the chunk end (-t) and has its
// timestamps moved to the chunk's place on the timeline; with a preroll,
// keyframes are forced on the segment grid counted from the chunk start
// (not the preroll start), and the preroll becomes the first, short
// segment.
func videoOutputArgs(j VideoJob, stream, vf string) []string {
	r := j.Rendition
	seg := num(j.SegmentSeconds)
	var args []string
	first, limit := FirstSegmentNumber, chunkLimit(j)
	pre := j.Chunk.preroll()
	if c := j.Chunk; c != nil {
		if limit != "" {
			args = append(args, "-t", limit)
		}
		args = append(args, "-output_ts_offset", num(c.start()))
		first = c.FirstSegment
		if pre > 0 {
			first--
		}
	}
	args = append(args, "-map", stream, "-an", "-sn", "-dn")
	if vf != "" {
		args = append(args, "-vf", vf)
	}
	if usesSoftwareFrames(j.HWAccel, r.GetCodec()) {
		args = append(args, "-pix_fmt", "yuv420p")
	}
	gop := 0
	if j.FrameRate > 0 {
		// cfr also duplicates the first frame when video starts after
		// the source's first packet, so the track starts at zero.
		gop = int(math.Max(1, math.Round(j.FrameRate*j.SegmentSeconds)))
		args = append(args, "-r", rate(j.FrameRate), "-fps_mode", "cfr", "-g", itoa(int64(gop)), "-keyint_min", itoa(int64(gop)))
	}
	preset := j.Preset
	if preset == "" {
		preset = DefaultPreset
	}
	if j.HWAccel.Encoder(r.GetCodec()) != "" {
		args = append(args, hwCodecArgs(r, j.HWAccel, preset)...)
	} else {
		args = append(args, codecArgs(r, preset, gop)...)
	}
	if b := r.GetVideoBitrate(); b > 0 {
		args = append(args, "-b:v", itoa(b))
	}
	if m := r.GetMaxBitrate(); m > 0 {
		buf := r.GetBufferSize()
		if buf <= 0 {
			buf = 2 * m
		}
		args = append(args, "-maxrate", itoa(m), "-bufsize", itoa(buf))
	}
	keys := "expr:gte(t,n_forced*" + seg + ")"
	if pre > 0 {
		// A millisecond of slack: t is computed in floating point and
		// the frame at the chunk start must not miss its keyframe
		// (x264's keyint, counted from the preroll's first frame, does
		// not put one there).
		keys = "expr:gte(t," + num(roundMicros(pre-0.001)) + "+n_forced*" + seg + ")"
	}
	args = append(args, "-force_key_frames", keys)
	hls := hlsOnlyArgs(j.OutDir, seg, first, j.Chunk != nil)
	if pre > 0 {
		// The first segment ends at the first keyframe after half the
		// preroll: the one forced at the chunk start (the preroll's own
		// first frame is a keyframe too, hence not at zero).
		hls = append(hls[:len(hls)-1], "-hls_init_time", num(pre/2), hls[len(hls)-1])
	}
	return append(args, hls...)
}

// chunkLimit is the -t of a chunk with a known end (preroll included),
// else "".
func chunkLimit(j VideoJob) string {
	if c := j.Chunk; c != nil && c.Duration > 0 {
		return num(roundMicros(c.Duration + c.preroll()))
	}
	return ""
}

// nullOutputArgs is the discarded copy output every encode ends with (see
// hlsOutputArgs), bounded like the chunk.
func nullOutputArgs(j VideoJob) []string {
	null := []string{"-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "null", "-"}
	if limit := chunkLimit(j); limit != "" {
		return append([]string{"-t", limit}, null...)
	}
	return null
}

// codecArgs selects the encoder of r's codec with closed GOPs and no
// scene-cut keyframes, so keyframes fall only on segment boundaries.
func codecArgs(r *vodfleetv1.Rendition, preset string, gop int) []string {
	switch r.GetCodec() {
	case vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC:
		params := "scenecut=0:open-gop=0:log-level=error"
		if gop > 0 {
			params += ":keyint=" + itoa(int64(gop)) + ":min-keyint=" + itoa(int64(gop))
		}
		// hvc1 (parameter sets in the init segment) is what Apple
		// players require.
		return []string{"-c:v", "libx265", "-preset", preset, "-profile:v", "main", "-tag:v", "hvc1", "-x265-params", params}
	case vodfleetv1.VideoCodec_VIDEO_CODEC_AV1:
		params := "enable-overlays=0"
		if gop > 0 {
			params += ":keyint=" + itoa(int64(gop))
		}
		return []string{"-c:v", "libsvtav1", "-preset", svtPreset(preset), "-svtav1-params", params}
	}
	args := []string{"-c:v", "libx264", "-preset", preset}
	if p := strings.ToLower(r.GetProfile()); p != "" {
		args = append(args, "-profile:v", p)
	}
	if l := r.GetLevel(); l != "" {
		args = append(args, "-level:v", l)
	}
	return append(args, "-sc_threshold", "0", "-x264-params", "open-gop=0", "-flags", "+cgop")
}

// svtPreset maps an x264 preset name to the SVT-AV1 preset (0 slowest to
// 13 fastest) of similar cost.
func svtPreset(x264 string) string {
	switch x264 {
	case "ultrafast", "superfast":
		return "12"
	case "veryfast", "faster":
		return "10"
	case "fast", "medium":
		return "8"
	default:
		return "6"
	}
}

// AudioArgs returns the ffmpeg arguments (without the binary) that encode
// the first audio stream of j.Input to AAC-LC CMAF segments plus an HLS
// media playlist.
func AudioArgs(j AudioJob) []string {
	a := j.Audio
	args := inputArgs(j.Input, j.Whitelist)
	args = append(args,
		"-map", "0:a:"+itoa(int64(j.StreamIndex)), "-vn", "-sn", "-dn",
		// Pad with silence (or trim) so the track starts at the shared
		// zero even when audio begins after the first video packet;
		// async=1 also fills gaps so segments stay contiguous.
		"-af", "aresample=async=1:first_pts=0",
		"-c:a", "aac",
	)
	if a.GetBitrate() > 0 {
		args = append(args, "-b:a", itoa(a.GetBitrate()))
	}
	if a.GetChannels() > 0 {
		args = append(args, "-ac", itoa(int64(a.GetChannels())))
	}
	if a.GetSampleRate() > 0 {
		args = append(args, "-ar", itoa(int64(a.GetSampleRate())))
	}
	return append(args, hlsOutputArgs(j.OutDir, num(j.SegmentSeconds))...)
}

// inputArgs are the global and input options shared by every encode of a
// source: the protocol whitelist, the media demuxer whitelist (no
// playlists or concat lists from user input, see InputOptions), then
// extra input options (a seek) right before -i.
func inputArgs(input, whitelist string, extra ...string) []string {
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-progress", "pipe:1"}
	args = append(args, InputOptions(whitelist, "")...)
	args = append(args, extra...)
	return append(args, "-i", input)
}

// hlsOutputArgs writes fMP4 (CMAF) segments and a VOD media playlist to dir,
// then adds a second, discarded output that stream-copies every audio and
// video stream. That output costs only demuxing, but it keeps all streams
// enabled: ffmpeg otherwise recomputes the start time of MPEG-TS-like
// inputs from the mapped streams only, which would shift a video-only and
// an audio-only encode of the same source onto different timelines.
func hlsOutputArgs(dir, seg string) []string {
	return append(hlsOnlyArgs(dir, seg, FirstSegmentNumber, false),
		"-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "null", "-")
}

// hlsOnlyArgs is the HLS output alone, segments numbered from first. The
// fragments of a chunk carry their real decode time (frag_discont): its
// place on the whole timeline.
func hlsOnlyArgs(dir, seg string, first int, chunked bool) []string {
	dir = outDir(dir)
	movflags := "movflags=+negative_cts_offsets"
	if chunked {
		movflags += "+frag_discont"
	}
	return []string{
		"-map_metadata", "-1", "-map_chapters", "-1",
		// Keep negative DTS and write negative composition offsets
		// instead: the first frame is then presented at tfdt (0) with
		// no empty edit, which MSE players ignore.
		"-avoid_negative_ts", "disabled",
		"-f", "hls",
		"-hls_segment_type", "fmp4",
		"-hls_segment_options", movflags,
		"-hls_fmp4_init_filename", InitName,
		"-hls_segment_filename", strings.ReplaceAll(dir, "%", "%%") + "/" + SegmentPattern,
		"-start_number", itoa(int64(first)),
		"-hls_time", seg,
		"-hls_list_size", "0",
		"-hls_playlist_type", "vod",
		"-hls_flags", "independent_segments",
		dir + "/" + PlaylistName,
	}
}

// outDir cleans dir and makes a relative one start with "./" so ffmpeg
// cannot mistake "name:..." for a protocol.
func outDir(dir string) string {
	dir = filepath.Clean(dir)
	if !filepath.IsAbs(dir) && !strings.HasPrefix(dir, ".") {
		dir = "./" + dir
	}
	return dir
}

// rate formats a frame rate for -r, recognising the NTSC family
// (24000/1001, 30000/1001, 60000/1001) so the encoder time base is exact.
func rate(f float64) string {
	if n := math.Round(f); math.Abs(f-n) < 1e-3 {
		return itoa(int64(n))
	}
	if n := math.Round(f * 1.001); math.Abs(f-n/1.001) < 1e-3 {
		return itoa(int64(n*1000)) + "/1001"
	}
	return num(f)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
