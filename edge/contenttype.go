package edge

import (
	"path"
	"strings"
)

// mediaTypes maps streaming extensions to the types players expect. They
// win over the origin's Content-Type because some players (Safari, hls.js,
// dash.js, smart TVs) refuse a playlist or segment served with a generic
// type, and the origin may only know application/octet-stream.
var mediaTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".mp4":  "video/mp4",
	".m4s":  "video/iso.segment",
	".ts":   "video/mp2t",
	".vtt":  "text/vtt",
	".jpg":  "image/jpeg",
	".m4a":  "audio/mp4",
}

// contentTypeFor returns the Content-Type to serve name with: the table
// entry for its extension, else the origin's type, else a generic binary
// type.
func contentTypeFor(name, fromOrigin string) string {
	if t, ok := mediaTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	if fromOrigin != "" {
		return fromOrigin
	}
	return "application/octet-stream"
}

// isPlaylist reports whether name is a manifest, which may be republished
// and so gets a short max-age instead of immutable caching.
func isPlaylist(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".m3u8", ".mpd":
		return true
	}
	return false
}
