package edge

import (
	"fmt"
	"time"

	"github.com/vodfleet/vodfleet/internal/mediatype"
)

// cacheControl holds the two Cache-Control values the edge sends, formatted
// once at startup so no request formats them again.
type cacheControl struct {
	playlist string
	segment  string
}

// newCacheControl formats the values for cfg: short for playlists, which
// may be republished, long and immutable for everything else.
func newCacheControl(cfg Config) cacheControl {
	return cacheControl{
		playlist: fmt.Sprintf("public, max-age=%d", int64(cfg.PlaylistMaxAge/time.Second)),
		segment:  fmt.Sprintf("public, max-age=%d, immutable", int64(cfg.SegmentMaxAge/time.Second)),
	}
}

// forPath returns the Cache-Control for an object path or cache key.
func (c cacheControl) forPath(name string) string {
	if mediatype.IsPlaylist(name) {
		return c.playlist
	}
	return c.segment
}
