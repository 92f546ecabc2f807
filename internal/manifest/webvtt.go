package manifest

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// SubtitlePlaylist returns the HLS media playlist of one WebVTT sidecar
// file: a single segment, uri (relative to the playlist), that spans the
// whole presentation of durationSeconds.
func SubtitlePlaylist(uri string, durationSeconds float64) string {
	target := max(1, int(math.Ceil(durationSeconds-1e-6)))
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n", hlsVersionTS, target)
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n#EXT-X-ENDLIST\n", max(durationSeconds, 0), uri)
	return b.String()
}

// timestampMapPrefix starts the WebVTT header line that ties cue times to
// MPEG-TS presentation timestamps in HLS.
const timestampMapPrefix = "X-TIMESTAMP-MAP="

// TimestampMap returns vtt with an X-TIMESTAMP-MAP header saying that cue
// time zero is MPEG-TS presentation timestamp pts (90 kHz). HLS players
// assume PTS zero without it, while ffmpeg's MPEG-TS output starts later
// (1.4 s by default), so the subtitles of TS variants need the map. An
// existing map is replaced.
//
// Errors wrap ErrBadWebVTT when vtt does not start with the WEBVTT
// signature.
func TimestampMap(vtt []byte, pts int64) ([]byte, error) {
	body := bytes.TrimPrefix(vtt, []byte("\uFEFF"))
	first, rest, _ := bytes.Cut(body, []byte("\n"))
	sig := strings.TrimRight(string(first), "\r")
	if sig != "WEBVTT" && !strings.HasPrefix(sig, "WEBVTT ") && !strings.HasPrefix(sig, "WEBVTT\t") {
		return nil, fmt.Errorf("first line %.20q: %w", sig, ErrBadWebVTT)
	}
	var out bytes.Buffer
	out.WriteString(sig + "\n")
	fmt.Fprintf(&out, "%sMPEGTS:%d,LOCAL:00:00:00.000\n", timestampMapPrefix, pts)
	// Header lines run to the first blank line; drop an old map there.
	inHeader := true
	for line := range strings.Lines(string(rest)) {
		if inHeader {
			trimmed := strings.TrimRight(line, "\r\n")
			if trimmed == "" {
				inHeader = false
			} else if strings.HasPrefix(trimmed, timestampMapPrefix) {
				continue
			}
		}
		out.WriteString(line)
	}
	return out.Bytes(), nil
}
