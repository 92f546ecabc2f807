package edge

import (
	"errors"
	"strconv"
	"strings"
)

// Smooth Streaming URLs (see smooth.go). They live under a virtual
// directory of the asset that the packager never writes, so they cannot
// shadow a stored object.
// smoothManifest equals smooth.ManifestPath (a test checks it); the
// constants keep the check on every request free of allocations.
const (
	smoothDir      = "manifest.ism"
	smoothManifest = smoothDir + "/Manifest"
	// maxStreamName bounds the StreamIndex name in a fragment URL.
	maxStreamName = 32
)

var (
	// errNotSmooth means a path under manifest.ism/ is neither the
	// manifest nor a fragment: 404, like any missing object.
	errNotSmooth = errors.New("no such smooth streaming resource")
	// errBadFragment means a fragment URL is malformed: 400.
	errBadFragment = errors.New("malformed smooth streaming fragment url")
)

// smoothRequest is a parsed Smooth Streaming URL below /v/{asset}/.
type smoothRequest struct {
	manifest bool
	stream   string
	bitrate  int64
	time     uint64
}

// isSmoothPath reports whether the object path (after "{asset}/") is in
// the Smooth Streaming namespace.
func isSmoothPath(objPath string) bool {
	return objPath == smoothDir || strings.HasPrefix(objPath, smoothDir+"/")
}

// parseSmoothPath parses "manifest.ism/Manifest" or
// "manifest.ism/QualityLevels({bitrate})/Fragments({stream}={time})".
// Numbers must be canonical decimals (no sign, no leading zeros), so each
// fragment has exactly one URL and one cache key.
func parseSmoothPath(objPath string) (smoothRequest, error) {
	if objPath == smoothManifest {
		return smoothRequest{manifest: true}, nil
	}
	rest, ok := strings.CutPrefix(objPath, smoothDir+"/QualityLevels(")
	if !ok {
		return smoothRequest{}, errNotSmooth
	}
	bitrate, rest, ok := strings.Cut(rest, ")/Fragments(")
	if !ok {
		return smoothRequest{}, errBadFragment
	}
	frag, ok := strings.CutSuffix(rest, ")")
	if !ok {
		return smoothRequest{}, errBadFragment
	}
	stream, tm, ok := strings.Cut(frag, "=")
	if !ok || !validStreamName(stream) {
		return smoothRequest{}, errBadFragment
	}
	b, ok := canonicalUint(bitrate)
	if !ok || b == 0 || b > 1<<62 {
		return smoothRequest{}, errBadFragment
	}
	t, ok := canonicalUint(tm)
	if !ok {
		return smoothRequest{}, errBadFragment
	}
	return smoothRequest{stream: stream, bitrate: int64(b), time: t}, nil
}

// canonicalUint parses a decimal without sign or leading zeros.
func canonicalUint(s string) (uint64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// validStreamName checks a StreamIndex name: [A-Za-z0-9_]{1,32}.
func validStreamName(s string) bool {
	if s == "" || len(s) > maxStreamName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
