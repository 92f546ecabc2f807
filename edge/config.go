package edge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config holds the tunables of an edge node. Start from DefaultConfig and
// override fields; New calls Validate so a bad config fails at startup rather
// than on the first player request.
type Config struct {
	// Origin is the base URL of a storage node's HTTP origin, for example
	// "http://127.0.0.1:7003". Objects are fetched from
	// {Origin}/o/assets/{asset}/{path}. Required.
	Origin string

	// MemoryBytes is the byte budget of the in-memory LRU. The hot set of a
	// VOD catalogue (first segments, playlists) fits in a few hundred MiB;
	// zero disables memory caching entirely.
	MemoryBytes int64

	// MaxObjectBytes is the largest object that is buffered and cached.
	// Larger objects (progressive MP4 downloads) are streamed straight from
	// the origin so one request cannot pin gigabytes of memory.
	MaxObjectBytes int64

	// OriginTimeout bounds connecting to the origin and waiting for its
	// response headers and, for cacheable objects, the whole download.
	// Expiry maps to 504 so players retry rather than hang.
	OriginTimeout time.Duration

	// PlaylistMaxAge is the Cache-Control max-age of playlists (.m3u8,
	// .mpd) and also how long the edge keeps serving a cached playlist
	// before fetching it again, because playlists may be republished.
	PlaylistMaxAge time.Duration

	// SegmentMaxAge is the Cache-Control max-age of everything else.
	// Segments are content-addressed and never change once published, so
	// they are also marked immutable.
	SegmentMaxAge time.Duration

	// Now is the clock used for playlist freshness. Nil means time.Now;
	// tests inject a fake to drive expiry without sleeping.
	Now func() time.Time
}

// DefaultConfig returns a Config with production defaults; only Origin must
// be filled in.
func DefaultConfig() Config {
	return Config{
		MemoryBytes:    256 << 20,
		MaxObjectBytes: 64 << 20,
		OriginTimeout:  10 * time.Second,
		PlaylistMaxAge: 2 * time.Second,
		SegmentMaxAge:  365 * 24 * time.Hour,
	}
}

// Validate reports the first invalid field, so misconfiguration is caught
// before the node starts serving.
func (c Config) Validate() error {
	if c.Origin == "" {
		return errors.New("edge: origin is required")
	}
	u, err := url.Parse(c.Origin)
	if err != nil {
		return fmt.Errorf("edge: origin: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("edge: origin %q: scheme must be http or https", c.Origin)
	}
	if u.Host == "" {
		return fmt.Errorf("edge: origin %q: missing host", c.Origin)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("edge: origin %q: must not carry user info, query or fragment", c.Origin)
	}
	switch {
	case c.MemoryBytes < 0:
		return errors.New("edge: memory bytes must not be negative")
	case c.MaxObjectBytes <= 0:
		return errors.New("edge: max object bytes must be positive")
	case c.OriginTimeout <= 0:
		return errors.New("edge: origin timeout must be positive")
	case c.PlaylistMaxAge < 0:
		return errors.New("edge: playlist max age must not be negative")
	case c.SegmentMaxAge < 0:
		return errors.New("edge: segment max age must not be negative")
	}
	return nil
}

// originBase returns Origin without a trailing slash, ready for joining.
func (c Config) originBase() string {
	return strings.TrimRight(c.Origin, "/")
}
