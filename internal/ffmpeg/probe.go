package ffmpeg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// ProbeOptions tunes how Probe runs ffprobe.
type ProbeOptions struct {
	// Whitelist is passed as -protocol_whitelist so a crafted input cannot
	// make ffprobe open other protocols: "file" for the local copy agents
	// make of every source. Empty leaves ffprobe's default (everything),
	// which only tests should use.
	Whitelist string
	// FormatWhitelist is passed as -format_whitelist; empty means
	// MediaFormats, so playlists and concat lists (which name further
	// files) are never opened (see InputOptions).
	FormatWhitelist string
	// Timeout bounds the ffprobe run: ffprobe prints no progress, so the
	// watchdog cannot tell a slow probe from a hung one, and a hung one
	// must still end. 0 means DefaultProbeTimeout.
	Timeout time.Duration
}

// DefaultProbeTimeout is the probe time limit when ProbeOptions.Timeout
// is 0. Probing reads headers and a few seconds of packets of a local
// file: seconds even for large files, so two minutes only ends a hang.
const DefaultProbeTimeout = 2 * time.Minute

// transientMarkers are ffprobe stderr fragments that point at the network
// or the machine rather than the media, so the probe may be retried.
var transientMarkers = []string{
	"Connection refused",
	"Connection reset",
	"Connection timed out",
	"timed out",
	"Network is unreachable",
	"Temporary failure in name resolution",
	"Server returned 5",
	"Input/output error",
	"Cannot allocate memory",
}

// Probe runs ffprobe (bin) on input and parses what it finds. The time limit
// comes from ctx and opts.Timeout: when ctx ends, ffprobe's process group
// is killed and the error wraps context.Cause(ctx); past opts.Timeout it
// wraps ErrStalled.
//
// A non-zero ffprobe exit wraps ErrNotMedia, ErrTruncated or
// ErrUnsupportedCodec when stderr shows which, network failures wrap
// ErrFailed so the task is retried, and anything else wraps
// ErrInvalidMedia with the first readable stderr line. A zero exit that
// still reports a truncated file wraps ErrTruncated; a first video (or,
// without video, first audio) stream whose codec ffmpeg does not know
// wraps ErrUnsupportedCodec. A source without video or audio wraps
// ErrNoVideo.
func Probe(ctx context.Context, bin, input string, opts ProbeOptions) (*vodfleetv1.ProbeResult, error) {
	args := []string{"-v", "error", "-hide_banner"}
	args = append(args, InputOptions(opts.Whitelist, opts.FormatWhitelist)...)
	args = append(args, "-print_format", "json", "-show_format", "-show_streams", "-i", input)

	limit := opts.Timeout
	if limit <= 0 {
		limit = DefaultProbeTimeout
	}
	pctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%w: no result after %s", ErrStalled, seconds2(limit)))
	defer cancel()
	cmd := command(pctx, bin, args)
	var stdout bytes.Buffer
	stderr := newTailBuffer(stderrTailSize)
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("ffprobe: %w", context.Cause(ctx))
	}
	if pctx.Err() != nil {
		return nil, fmt.Errorf("ffprobe: %w", context.Cause(pctx))
	}
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return nil, fmt.Errorf("ffprobe: %v: %w", err, ErrFailed)
		}
		lines := stderr.lines()
		if line, kind := classify(lines, input); kind != nil {
			return nil, fmt.Errorf("%w: ffprobe: %s", kind, line)
		}
		line, invalid := reason(lines, true)
		if line == "" {
			line = exitErr.Error()
		}
		if !invalid && transient(lines) {
			return nil, fmt.Errorf("ffprobe: %s: %w", cleanLine(line, input), ErrFailed)
		}
		return nil, fmt.Errorf("ffprobe: %s: %w", cleanLine(line, input), ErrInvalidMedia)
	}
	if line := truncation(stderr.lines()); line != "" {
		return nil, fmt.Errorf("%w: ffprobe: %s", ErrTruncated, cleanLine(line, input))
	}
	if err := undecodable(stdout.Bytes()); err != nil {
		return nil, err
	}
	return ParseProbe(stdout.Bytes())
}

// undecodable returns an error wrapping ErrUnsupportedCodec when the
// stream a job would use (the first video stream that is not cover art, or
// without one the first audio stream) has no codec name: ffprobe leaves it
// out for codecs ffmpeg does not know, such as an unknown Matroska codec
// id. Catching it here fails the job with a clear reason instead of at
// encode time.
func undecodable(data []byte) error {
	var pj struct {
		Streams []struct {
			Index       int            `json:"index"`
			CodecType   string         `json:"codec_type"`
			CodecName   string         `json:"codec_name"`
			Disposition map[string]int `json:"disposition"`
		} `json:"streams"`
	}
	if json.Unmarshal(data, &pj) != nil {
		return nil // ParseProbe reports unreadable output
	}
	for _, kind := range []string{"video", "audio"} {
		for _, s := range pj.Streams {
			if s.CodecType != kind || s.Disposition["attached_pic"] != 0 {
				continue
			}
			if s.CodecName == "" || s.CodecName == "none" {
				return fmt.Errorf("%w: ffprobe: %s stream #%d uses a codec ffmpeg cannot decode", ErrUnsupportedCodec, kind, s.Index)
			}
			return nil
		}
	}
	return nil
}

// transient reports whether any stderr line points at the network or the
// machine rather than the media.
func transient(lines []string) bool {
	for _, l := range lines {
		for _, m := range transientMarkers {
			if strings.Contains(l, m) {
				return true
			}
		}
	}
	return false
}

// probeJSON is the subset of ffprobe's JSON output that ParseProbe reads.
type probeJSON struct {
	Streams []probeStream `json:"streams"`
	Format  *struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Size       string `json:"size"`
	} `json:"format"`
}

type probeStream struct {
	CodecType    string            `json:"codec_type"`
	CodecName    string            `json:"codec_name"`
	Width        int32             `json:"width"`
	Height       int32             `json:"height"`
	SAR          string            `json:"sample_aspect_ratio"`
	FieldOrder   string            `json:"field_order"`
	AvgFrameRate string            `json:"avg_frame_rate"`
	RFrameRate   string            `json:"r_frame_rate"`
	Duration     string            `json:"duration"`
	Tags         map[string]string `json:"tags"`
	Disposition  map[string]int    `json:"disposition"`
	SideData     []struct {
		Rotation *float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// ParseProbe parses the output of
// "ffprobe -print_format json -show_format -show_streams".
//
// Width and height are display dimensions: the sample aspect ratio is
// applied to the width and they are swapped when the stream is rotated by
// 90 or 270 degrees (ffmpeg auto-rotates when decoding, so the planner must
// see the rotated shape). The frame rate is avg_frame_rate, or r_frame_rate
// when ffprobe could not average it. The duration is the container's, or
// the longest stream's when the container has none (0 when unknown, e.g.
// raw elementary streams). The field order is ffprobe's, empty when it
// says "unknown" (MeasureFieldOrder can then tell).
//
// Output with no streams wraps ErrInvalidMedia; output with neither video
// nor audio (only cover art, subtitles or data) wraps ErrNoVideo. An
// audio-only source is valid (HasVideo false): it makes an audio-only
// asset.
func ParseProbe(data []byte) (*vodfleetv1.ProbeResult, error) {
	var pj probeJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("ffprobe: decode output: %w", err)
	}
	if len(pj.Streams) == 0 {
		return nil, fmt.Errorf("ffprobe: no streams: %w", ErrInvalidMedia)
	}
	res := &vodfleetv1.ProbeResult{}
	if pj.Format != nil {
		res.FormatName = pj.Format.FormatName
		res.DurationSeconds = seconds(pj.Format.Duration)
		res.SizeBytes, _ = strconv.ParseInt(pj.Format.Size, 10, 64)
	}
	var longest float64
	for i := range pj.Streams {
		s := &pj.Streams[i]
		longest = math.Max(longest, seconds(s.Duration))
		switch {
		case s.CodecType == "video" && !res.HasVideo && s.Disposition["attached_pic"] == 0:
			res.HasVideo = true
			res.VideoCodec = s.CodecName
			res.Width, res.Height = displaySize(s)
			if s.FieldOrder != "unknown" {
				res.FieldOrder = s.FieldOrder
			}
			res.FrameRate = ratio(s.AvgFrameRate)
			if res.FrameRate <= 0 {
				res.FrameRate = ratio(s.RFrameRate)
			}
		case s.CodecType == "audio" && !res.HasAudio:
			res.HasAudio = true
			res.AudioCodec = s.CodecName
		}
	}
	if res.DurationSeconds <= 0 {
		res.DurationSeconds = longest
	}
	var extra struct {
		Streams []probeStreamIndex `json:"streams"`
	}
	_ = json.Unmarshal(data, &extra) // the same document decoded above
	collectStreams(res, pj.Streams, extra.Streams)
	if !res.HasVideo && !res.HasAudio {
		return nil, fmt.Errorf("ffprobe: %w", ErrNoVideo)
	}
	return res, nil
}

// displaySize applies the sample aspect ratio and rotation of s.
func displaySize(s *probeStream) (w, h int32) {
	w, h = s.Width, s.Height
	if sar := ratio(s.SAR); sar > 0 && math.Abs(sar-1) > 1e-9 {
		w = int32(math.Round(float64(w) * sar))
	}
	rot := 0.0
	for _, sd := range s.SideData {
		if sd.Rotation != nil {
			rot = *sd.Rotation
		}
	}
	if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil && rot == 0 {
		rot = r // ffmpeg before 5.0 reported rotation as a tag
	}
	if q := int(math.Round(math.Abs(rot))) % 180; q == 90 {
		w, h = h, w
	}
	return w, h
}

// ratio parses "num/den", "num:den" (aspect ratios) or a plain number;
// invalid, negative or 0/0 gives 0.
func ratio(s string) float64 {
	num, den, ok := strings.Cut(strings.ReplaceAll(s, ":", "/"), "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 || n <= 0 {
		return 0
	}
	return n / d
}

// seconds parses ffprobe's decimal seconds; "N/A" or garbage gives 0.
func seconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}
