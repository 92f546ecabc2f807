package main

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// mediaPlaylist is what the bench needs from an HLS media playlist.
type mediaPlaylist struct {
	// maps are the EXT-X-MAP URIs (initialization segments).
	maps []string
	// segments are the media segment URIs, in order.
	segments []string
	// seconds is the sum of the EXTINF durations.
	seconds float64
}

// parseMedia reads a media playlist. URIs are kept as written.
func parseMedia(data []byte) (*mediaPlaylist, error) {
	p := &mediaPlaylist{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			uri, ok := quoted(line, "URI")
			if !ok {
				return nil, fmt.Errorf("EXT-X-MAP without URI: %q", line)
			}
			p.maps = append(p.maps, uri)
		case strings.HasPrefix(line, "#EXTINF:"):
			d, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			v, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
			if err != nil {
				return nil, fmt.Errorf("bad EXTINF %q", line)
			}
			p.seconds += v
		case strings.HasPrefix(line, "#"):
		default:
			p.segments = append(p.segments, line)
		}
	}
	if len(p.segments) == 0 {
		return nil, fmt.Errorf("media playlist lists no segments")
	}
	return p, sc.Err()
}

// masterVariants returns the URIs of the variant streams (the line after
// each EXT-X-STREAM-INF) of a master playlist; audio renditions
// (EXT-X-MEDIA) are skipped.
func masterVariants(data []byte) []string {
	var out []string
	next := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF:"):
			next = true
		case line == "" || strings.HasPrefix(line, "#"):
		case next:
			out = append(out, line)
			next = false
		}
	}
	return out
}

// quoted returns the quoted attribute name="..." of a tag line.
func quoted(line, name string) (string, bool) {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return "", false
	}
	rest := line[i+len(name)+2:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

// safeRel accepts a relative URI that stays inside its base directory, so
// a playlist cannot make the bench write outside its output directory.
func safeRel(uri string) (string, error) {
	clean := path.Clean(uri)
	if strings.Contains(uri, "://") || strings.ContainsAny(uri, "?#") || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("unexpected playlist URI %q", uri)
	}
	return clean, nil
}
