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
}

// Lookup returns the type for name's extension (a file name or object
// path, case-insensitive) and whether the table has it.
func Lookup(name string) (string, bool) {
	t, ok := types[strings.ToLower(path.Ext(name))]
	return t, ok
}

// Of returns the type for name, or Default.
func Of(name string) string {
	if t, ok := Lookup(name); ok {
		return t
	}
	return Default
}

// IsPlaylist reports whether name is a manifest (HLS playlist or DASH
// MPD): the objects that may be rewritten and so are cached briefly.
func IsPlaylist(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".m3u8", ".mpd":
		return true
	}
	return false
}
