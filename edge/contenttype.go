package edge

import "github.com/vodfleet/vodfleet/internal/mediatype"

// contentTypeFor returns the Content-Type to serve name with: the shared
// table's entry for its extension, else the origin's type, else a generic
// binary type. The table wins over the origin because some players
// (Safari, hls.js, dash.js, smart TVs) refuse a playlist or segment served
// with a generic type.
func contentTypeFor(name, fromOrigin string) string {
	if t, ok := mediatype.Lookup(name); ok {
		return t
	}
	if fromOrigin != "" {
		return fromOrigin
	}
	return mediatype.Default
}
