package ffmpeg

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// ParseMediaPlaylist reads the VOD media playlist ffmpeg's hls muxer writes
// (PlaylistName) and returns the initialization segment name (EXT-X-MAP URI)
// and the media segments in order with their EXTINF durations. Sizes are
// left zero; the caller fills them from the files.
//
// Every URI must be a plain file name inside the track directory. A
// playlist without EXT-X-ENDLIST is incomplete (the encode was interrupted)
// and, like any other malformed input, wraps ErrBadPlaylist.
func ParseMediaPlaylist(data []byte) (initName string, segs []*vodfleetv1.Segment, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var (
		header, ended bool
		pending       = -1.0 // EXTINF duration waiting for its URI
		lineNo        int
	)
	bad := func(format string, a ...any) error {
		return fmt.Errorf("line %d: %s: %w", lineNo, fmt.Sprintf(format, a...), ErrBadPlaylist)
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case !header:
			if line != "#EXTM3U" {
				return "", nil, bad("missing #EXTM3U")
			}
			header = true
		case ended:
			return "", nil, bad("content after EXT-X-ENDLIST")
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			attrs := strings.TrimPrefix(line, "#EXT-X-MAP:")
			if strings.Contains(attrs, "BYTERANGE") {
				return "", nil, bad("EXT-X-MAP with BYTERANGE is not supported")
			}
			uri, ok := quotedAttr(attrs, "URI")
			if !ok {
				return "", nil, bad("EXT-X-MAP without URI")
			}
			if err := checkName(uri); err != nil {
				return "", nil, bad("%v", err)
			}
			initName = uri
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || d <= 0 {
				return "", nil, bad("bad EXTINF %q", v)
			}
			pending = d
		case line == "#EXT-X-ENDLIST":
			ended = true
		case strings.HasPrefix(line, "#"):
			continue // other tags and comments
		default:
			if pending < 0 {
				return "", nil, bad("segment %q without EXTINF", line)
			}
			if err := checkName(line); err != nil {
				return "", nil, bad("%v", err)
			}
			segs = append(segs, &vodfleetv1.Segment{Name: line, DurationSeconds: pending})
			pending = -1
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("read playlist: %w", err)
	}
	switch {
	case !header:
		return "", nil, fmt.Errorf("empty playlist: %w", ErrBadPlaylist)
	case !ended:
		return "", nil, fmt.Errorf("no EXT-X-ENDLIST, encode incomplete: %w", ErrBadPlaylist)
	case initName == "":
		return "", nil, fmt.Errorf("no EXT-X-MAP: %w", ErrBadPlaylist)
	case len(segs) == 0:
		return "", nil, fmt.Errorf("no segments: %w", ErrBadPlaylist)
	case pending >= 0:
		return "", nil, fmt.Errorf("EXTINF without segment: %w", ErrBadPlaylist)
	}
	return initName, segs, nil
}

// quotedAttr returns the value of NAME="value" in an HLS attribute list.
func quotedAttr(attrs, name string) (string, bool) {
	for attrs != "" {
		var kv string
		kv, attrs = splitAttr(attrs)
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			return v[1 : len(v)-1], true
		}
	}
	return "", false
}

// splitAttr cuts the first attribute off an attribute list, honouring
// quotes (a quoted value may contain commas).
func splitAttr(s string) (first, rest string) {
	quoted := false
	for i, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// checkName refuses URIs that are not plain names inside the directory.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") || strings.Contains(name, "://") {
		return fmt.Errorf("segment name %q is not a plain file name", name)
	}
	return nil
}
