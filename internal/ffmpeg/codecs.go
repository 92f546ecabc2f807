package ffmpeg

import (
	"fmt"
	"strconv"
	"strings"
)

// AACCodecs is the RFC 6381 codecs string of the AAC-LC tracks AudioArgs
// produces.
const AACCodecs = "mp4a.40.2"

// defaultLevel is assumed when a rendition has no level; x264 then picks
// one itself, and 4.0 covers 1080p30, the top of the default ladder.
const defaultLevel = "4.0"

// H264Codecs returns the RFC 6381 codecs string ("avc1.PPCCLL") for the
// H.264 streams libx264 writes with the given profile and level, e.g.
// ("high", "4.0") → "avc1.640028", ("main", "3.1") → "avc1.4d401f".
//
// The constraint byte matches what x264 puts in the SPS, so the manifest
// agrees with the avcC box: baseline is written as constrained baseline
// with constraint_set0 and constraint_set1 (0xc0), main with
// constraint_set1 (0x40), high and above with none. Unknown profiles are
// treated as high; an empty or unparsable level as 4.0.
func H264Codecs(profile, level string) string {
	var idc, constraints int
	switch strings.ToLower(strings.TrimSpace(profile)) {
	case "baseline", "constrained_baseline", "constrained-baseline":
		idc, constraints = 66, 0xc0
	case "main":
		idc, constraints = 77, 0x40
	case "high10":
		idc = 110
	case "high422":
		idc = 122
	case "high444", "high444p", "high444predictive":
		idc = 244
	default:
		idc = 100
	}
	return fmt.Sprintf("avc1.%02x%02x%02x", idc, constraints, levelIDC(level))
}

// levelIDC turns "3.1", "31" or "4" into level_idc (31, 31, 40). Level 1b
// is written as 11 with constraint_set3 in baseline/main, which x264
// avoids, so it is not handled.
func levelIDC(level string) int {
	level = strings.TrimSpace(level)
	if level == "" {
		level = defaultLevel
	}
	if f, err := strconv.ParseFloat(level, 64); err == nil && f > 0 {
		if !strings.Contains(level, ".") && f >= 10 {
			return int(f) // already level_idc, e.g. "31"
		}
		return int(f*10 + 0.5)
	}
	return levelIDC(defaultLevel)
}
