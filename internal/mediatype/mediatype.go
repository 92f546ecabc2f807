// Package mediatype is the one table of streaming MIME types, shared by
// storage (which records a type per object) and the edge (which serves
// them), so both always agree.
package mediatype

import (
	"path"
	"strings"
)

// Default is the type of an object whose extension is not in the table.
const Default = "application/octet-stream"

// types maps lowercase file extensions to the MIME types players expect
// for HLS, DASH and progressive MP4. The mime package's table is not used:
// it depends on the host's mime.types and lacks most of these.
var types = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".mp4":  "video/mp4",
	".m4s":  "video/iso.segment",
	".ts":   "video/mp2t",
	".vtt":  "text/vtt",
	".jpg":  "image/jpeg",
	".m4a":  "audio/mp4",
	// HDS (legacy): the F4M manifest and the bootstrap.
	".f4m":  "application/f4m+xml",
	".abst": "application/octet-stream",
}

// F4F is the type of HDS fragments, whose names have no extension
// ("<media>Seg<N>-Frag<M>").
const F4F = "video/f4f"

// isHDSFragment reports whether the last element of name is an HDS
// fragment name: it ends in "Seg" digits "-Frag" digits.
func isHDSFragment(name string) bool {
	base := path.Base(name)
	i := strings.LastIndex(base, "-Frag")
	if i < 0 || !digits(base[i+len("-Frag"):]) {
		return false
	}
	j := strings.LastIndex(base[:i], "Seg")
	return j >= 0 && digits(base[j+len("Seg"):i])
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Lookup returns the type for name's extension (a file name or object
// path, case-insensitive) and whether the table has it.
func Lookup(name string) (string, bool) {
	t, ok := types[strings.ToLower(path.Ext(name))]
	if !ok && isHDSFragment(name) {
		return F4F, true
	}
	return t, ok
}

// Of returns the type for name, or Default.
func Of(name string) string {
	if t, ok := Lookup(name); ok {
		return t
	}
	return Default
}

// IsPlaylist reports whether name is a manifest (HLS playlist, DASH
// MPD or HDS F4M): the objects that may be rewritten and so are cached
// briefly.
func IsPlaylist(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".m3u8", ".mpd", ".f4m":
		return true
	}
	return false
}
