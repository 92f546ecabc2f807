package storage

import (
	"path"
	"strings"
)

// DefaultContentType is served when an object's type is unknown.
const DefaultContentType = "application/octet-stream"

// contentTypes maps lowercase file extensions to the MIME types players
// expect for HLS, DASH and progressive MP4. The mime package's table is not
// used because it depends on the host's mime.types and lacks most of these.
var contentTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".mp4":  "video/mp4",
	".m4s":  "video/iso.segment",
	".ts":   "video/mp2t",
	".vtt":  "text/vtt",
	".jpg":  "image/jpeg",
	".m4a":  "audio/mp4",
}

// ContentType guesses the MIME type of an object from the extension of its
// name (a file name or an object path), case-insensitively, falling back to
// DefaultContentType. The edge uses it too, so both agree on what is served.
func ContentType(name string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return DefaultContentType
}
