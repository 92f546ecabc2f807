package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config holds the tunables of an edge node. Start from DefaultConfig and
// override fields; New calls Validate so a bad config fails at startup rather
// than on the first player request.
type Config struct {
	// Origin is the base URL of a storage node's HTTP origin, for example
	// "http://127.0.0.1:7003". Objects are fetched from
	// {Origin}/o/assets/{asset}/{path}. Set Origin or Origins.
	Origin string

	// Origins lists several storage nodes by id, for deployments that
	// spread assets over nodes. The edge asks the nodes for an asset's
	// record (GET {URL}/a/{asset}), whose node id says which node holds
	// it, remembers the answer and fetches the asset's objects from that
	// node only. Set Origin or Origins.
	Origins []OriginNode

	// MemoryBytes is the byte budget of the in-memory LRU. The hot set of a
	// VOD catalogue (first segments, playlists) fits in a few hundred MiB;
	// zero disables memory caching entirely.
	MemoryBytes int64

	// MaxObjectBytes is the largest object that is buffered and cached.
	// Larger objects (progressive MP4 downloads) are streamed straight from
	// the origin so one request cannot pin gigabytes of memory.
	MaxObjectBytes int64

	// OriginTimeout bounds waiting for the origin's response headers and,
	// for cacheable objects, the whole download (connecting is bounded by
	// the shorter OriginConnectTimeout). Expiry maps to 504 so players
	// retry rather than hang, or to a stale answer if one is cached.
	OriginTimeout time.Duration

	// PlaylistMaxAge is the Cache-Control max-age of playlists (.m3u8,
	// .mpd) and also how long the edge keeps serving a cached playlist
	// before fetching it again, because playlists may be republished.
	PlaylistMaxAge time.Duration

	// SegmentMaxAge is the Cache-Control max-age of everything else.
	// Segments are content-addressed and never change once published, so
	// they are also marked immutable.
	SegmentMaxAge time.Duration

	// OriginConnectTimeout bounds dialing the origin, separately from and
	// much shorter than OriginTimeout, so a dead or unreachable origin
	// turns into a quick 502 (or a stale answer) instead of a player that
	// hangs. Zero means the default (2s); it is capped at OriginTimeout.
	OriginConnectTimeout time.Duration

	// DiskDir is the directory of the disk tier, which holds objects
	// evicted from (or too big for) memory but within MaxObjectBytes. The
	// cache is disposable: New empties the directory, so it must be
	// dedicated to this edge. Required when DiskBytes > 0.
	DiskDir string

	// OriginTLS is the TLS config for https:// origins: the cluster CA
	// and the edge's certificate, which a storage origin serving with
	// --http-tls requires (see security.Security.ClientTLS). Nil uses the
	// system roots and presents no certificate.
	OriginTLS *tls.Config

	// DiskBytes is the byte budget of the disk tier, counting object bytes
	// plus key lengths (not filesystem overhead or the small metadata
	// sidecars); zero turns the tier off.
	DiskBytes int64

	// SigningKey is the HMAC-SHA256 key of signed URLs (see Sign and
	// SignedPath). When set (non-empty), only /t/{token}/v/... requests
	// carrying a valid, unexpired token for the path are served and plain
	// /v/... requests get 403. Nil or empty turns signing off (then a
	// /t/{token}/ prefix is accepted and ignored, so signed links keep
	// working). Use at least 16 random bytes (32 recommended).
	SigningKey []byte

	// DashboardURL is a coordinator's web dashboard (its --http listener),
	// proxied read-only (GET and HEAD) under /dashboard/ so operators
	// reach it through the edge. Empty turns the proxy off.
	DashboardURL string

	// Now is the clock used for playlist freshness and token expiry. Nil
	// means time.Now; tests inject a fake to drive expiry without sleeping.
	Now func() time.Time
}

// defaultConnectTimeout is used when OriginConnectTimeout is zero.
const defaultConnectTimeout = 2 * time.Second

// minSigningKey is the shortest SigningKey accepted: shorter HMAC keys are
// guessable.
const minSigningKey = 16

// DefaultConfig returns a Config with production defaults; only Origin must
// be filled in.
func DefaultConfig() Config {
	return Config{
		MemoryBytes:          256 << 20,
		MaxObjectBytes:       64 << 20,
		OriginTimeout:        10 * time.Second,
		OriginConnectTimeout: defaultConnectTimeout,
		PlaylistMaxAge:       2 * time.Second,
		SegmentMaxAge:        365 * 24 * time.Hour,
	}
}

// Validate reports the first invalid field, so misconfiguration is caught
// before the node starts serving.
func (c Config) Validate() error {
	if err := c.validateOrigins(); err != nil {
		return err
	}
	if c.DashboardURL != "" {
		if err := validateOriginURL(c.DashboardURL); err != nil {
			return fmt.Errorf("dashboard url: %w", err)
		}
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
	case c.OriginConnectTimeout < 0:
		return errors.New("edge: origin connect timeout must not be negative")
	case c.DiskBytes < 0:
		return errors.New("edge: disk bytes must not be negative")
	case c.DiskBytes > 0 && c.DiskDir == "":
		return errors.New("edge: disk dir is required when disk bytes is set")
	case c.DiskBytes > 0 && filepath.Dir(filepath.Clean(c.DiskDir)) == filepath.Clean(c.DiskDir):
		// New empties DiskDir; never let that be a filesystem root.
		return fmt.Errorf("edge: disk dir %q must not be a filesystem root", c.DiskDir)
	case len(c.SigningKey) > 0 && len(c.SigningKey) < minSigningKey:
		return fmt.Errorf("edge: signing key must be at least %d bytes", minSigningKey)
	}
	return nil
}

// connectTimeout returns the effective dial timeout.
func (c Config) connectTimeout() time.Duration {
	d := c.OriginConnectTimeout
	if d == 0 {
		d = defaultConnectTimeout
	}
	return min(d, c.OriginTimeout)
}

// clock returns Now, or time.Now when unset.
func (c Config) clock() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

// validateOrigins checks Origin or Origins (exactly one is set).
func (c Config) validateOrigins() error {
	switch {
	case c.Origin == "" && len(c.Origins) == 0:
		return errors.New("edge: origin is required")
	case c.Origin != "" && len(c.Origins) > 0:
		return errors.New("edge: set origin or origins, not both")
	case c.Origin != "":
		return validateOriginURL(c.Origin)
	}
	seen := map[string]bool{}
	for _, o := range c.Origins {
		if len(c.Origins) > 1 && o.ID == "" {
			return fmt.Errorf("edge: origin %q: several origins need node ids", o.URL)
		}
		if seen[o.ID] {
			return fmt.Errorf("edge: origin node id %q listed twice", o.ID)
		}
		seen[o.ID] = true
		if err := validateOriginURL(o.URL); err != nil {
			return err
		}
	}
	return nil
}

// validateOriginURL checks one origin base URL.
func validateOriginURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("edge: origin: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("edge: origin %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("edge: origin %q: missing host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("edge: origin %q: must not carry user info, query or fragment", raw)
	}
	return nil
}

// originNodes returns the origins as a list (Origin as one node without
// id), with trailing slashes removed, ready for joining.
func (c Config) originNodes() []OriginNode {
	nodes := c.Origins
	if c.Origin != "" {
		nodes = []OriginNode{{URL: c.Origin}}
	}
	out := make([]OriginNode, len(nodes))
	for i, n := range nodes {
		out[i] = OriginNode{ID: n.ID, URL: strings.TrimRight(n.URL, "/")}
	}
	return out
}
