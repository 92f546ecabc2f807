package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Deinterlacing parities (VideoJob.Deinterlace).
const (
	// ParityTFF deinterlaces a source whose top field comes first.
	ParityTFF = "tff"
	// ParityBFF deinterlaces a source whose bottom field comes first.
	ParityBFF = "bff"
)

// idetFrames is how many frames MeasureFieldOrder analyses: 8 s at 25 fps
// is enough for idet to settle, and decoding them costs little next to the
// encode.
const idetFrames = 200

// DeinterlaceParity maps a probed field order (ffprobe's names) to the
// parity the encode deinterlaces with: "tt" and "bt" (bottom coded first,
// top displayed first) are top field first, "bb" and "tb" bottom field
// first; anything else, "progressive" and unknown included, is progressive
// and gives "".
func DeinterlaceParity(fieldOrder string) string {
	switch fieldOrder {
	case "tt", "bt":
		return ParityTFF
	case "bb", "tb":
		return ParityBFF
	}
	return ""
}

// deinterlaceFilter is the filter that makes frames of the given parity
// progressive: bwdif, one frame out per frame in (send_frame, so the frame
// rate and the segment grid stay those of the source), applied to every
// frame whatever its interlaced flag (containers and codecs often leave it
// unset, as when the field order was measured with idet). Empty for "".
func deinterlaceFilter(parity string) string {
	if parity != ParityTFF && parity != ParityBFF {
		return ""
	}
	return "bwdif=mode=send_frame:parity=" + parity + ":deint=all"
}

// MeasureFieldOrder decodes the first idetFrames frames of the first video
// stream of input with ffmpeg's idet filter and returns "tt", "bb" or
// "progressive" (see idetVerdict), or "" when idet could not tell (too few
// frames, still pictures). It is for sources whose stream header does not
// give the field order. whitelist is as in ProbeOptions; errors are
// those of Run, except that a decode failure wraps ErrInvalidMedia.
func MeasureFieldOrder(ctx context.Context, bin, input, whitelist string) (string, error) {
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error"}
	args = append(args, InputOptions(whitelist, "")...)
	args = append(args, "-i", input, "-map", "0:v:0", "-an", "-sn", "-dn",
		"-frames:v", itoa(idetFrames),
		"-vf", "idet,metadata=mode=print:file=-",
		"-f", "null", "-")
	cmd := command(ctx, bin, args)
	var stdout bytes.Buffer
	stderr := newTailBuffer(stderrTailSize)
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("idet: %w", context.Cause(ctx))
	}
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return "", fmt.Errorf("idet: %v: %w", err, ErrFailed)
		}
		lines := stderr.lines()
		if line, kind := classify(lines, input); kind != nil {
			return "", fmt.Errorf("%w: idet: %s", kind, line)
		}
		line, _ := reason(lines, false)
		if line == "" {
			line = exitErr.Error()
		}
		return "", fmt.Errorf("idet: %s: %w", cleanLine(line, input), ErrInvalidMedia)
	}
	return idetVerdict(parseIdet(stdout.Bytes())), nil
}

// idetCounts are idet's single-frame classification totals. The
// multi-frame ones are sticky (a frame idet cannot decide counts as the
// last decided kind), so one combed-looking frame in still progressive
// video would count many times; single-frame counts only see combing
// where there is motion, which is where deinterlacing matters.
type idetCounts struct {
	tff, bff, progressive, undetermined float64
}

// parseIdet reads the last lavfi.idet.single.* totals printed by the
// metadata filter (they are cumulative, so the last frame's are the
// totals).
func parseIdet(out []byte) idetCounts {
	var c idetCounts
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			continue
		}
		switch k {
		case "lavfi.idet.single.tff":
			c.tff = n
		case "lavfi.idet.single.bff":
			c.bff = n
		case "lavfi.idet.single.progressive":
			c.progressive = n
		case "lavfi.idet.single.undetermined":
			c.undetermined = n
		}
	}
	return c
}

// idetVerdict decides from idet's totals: interlaced ("tt" or "bb", the
// more frequent parity) when interlaced frames are at least twice the
// progressive ones and at least a quarter of all frames (static or dark
// pictures are mostly undetermined, and a few combed-looking frames in
// progressive video must not trigger deinterlacing); "progressive" when
// progressive frames outnumber interlaced ones; "" otherwise.
func idetVerdict(c idetCounts) string {
	inter := c.tff + c.bff
	total := inter + c.progressive + c.undetermined
	switch {
	case total == 0:
		return ""
	case inter >= 2*c.progressive && inter*4 >= total:
		if c.bff > c.tff {
			return "bb"
		}
		return "tt"
	case c.progressive > inter:
		return "progressive"
	}
	return ""
}
