package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/transfer"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// whitelistFile is the -protocol_whitelist of every source: the agent
// fetches each source itself (URL sources through the source policy) and
// ffmpeg/ffprobe only ever read the local copy. Handing ffmpeg a URL would
// let it resolve names and follow redirects and playlists unchecked.
const whitelistFile = "file"

// sourceCache downloads sources once per agent, so the probe and every
// encode of a job on this machine share one copy.
type sourceCache struct {
	dir    string
	log    hclog.Logger
	policy urlpolicy.Policy
	// topts are the transfer options of URL sources without policy and
	// per-scheme credentials (see transferOptions); tests shorten the
	// retry sleeps.
	topts               transfer.Options
	ftpCreds, httpCreds string
	// idle abandons a download that received no bytes for this long
	// (Config.StallTimeout), so a stalled origin cannot hold a slot until
	// the task timeout. The partial file stays and is resumed at once (up
	// to maxResumes times) or by the next attempt.
	idle time.Duration

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// newSourceCache returns the cache under cfg.WorkDir, downloading URL
// sources under cfg's source policy.
func newSourceCache(cfg Config, log hclog.Logger) *sourceCache {
	p := cfg.sourcePolicy()
	return &sourceCache{
		dir:    filepath.Join(cfg.WorkDir, "sources"),
		log:    log,
		policy: p,
		topts: transfer.Options{
			SSHKeyFile:     cfg.SFTPKeyFile,
			KnownHostsFile: cfg.SFTPKnownHostsFile,
			Retries:        sourceRetries,
			Logger:         log.Named("fetch"),
		},
		ftpCreds:  cfg.FTPCredentialsFile,
		httpCreds: cfg.HTTPCredentialsFile,
		idle:      cfg.StallTimeout,
		locks:     map[string]*sync.Mutex{},
	}
}

// input returns what to pass to ffmpeg's -i for src, always a local file,
// and the protocol whitelist that goes with it ("file"). Storage sources
// are fetched from storage, URL sources downloaded under the source
// policy; both are checked against the size limit.
func (c *sourceCache) input(ctx context.Context, st *storage.Client, src *v1.Source) (string, string, error) {
	switch loc := src.GetLocation().(type) {
	case *v1.Source_Url:
		p, err := c.download(ctx, loc.Url)
		return p, whitelistFile, err
	case *v1.Source_StoragePath:
		p, err := c.fetch(ctx, st, loc.StoragePath)
		return p, whitelistFile, err
	default:
		return "", "", fmt.Errorf("task has no source: %w", errPermanent)
	}
}

// cacheKey names the cache directory of a source.
func cacheKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:12])
}

// cached reports whether local exists, marking it in use so the sweep
// keeps it.
func cached(local string) bool {
	if _, err := os.Stat(local); err != nil {
		return false
	}
	now := time.Now()
	_ = os.Chtimes(local, now, now)
	return true
}

// download fetches a URL source (any of SourceSchemes) unless it is
// already here (see fetchURL). A partial download left by an earlier
// attempt on this agent is resumed.
func (c *sourceCache) download(ctx context.Context, raw string) (string, error) {
	u, err := c.policy.CheckURL(raw)
	if err != nil {
		return "", classifyDownload(err)
	}
	key := cacheKey("url:" + raw)
	local := filepath.Join(c.dir, key, "source")
	l := c.lock(key)
	l.Lock()
	defer l.Unlock()
	defer c.sweep(key)
	if cached(local) {
		return local, nil
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return "", fmt.Errorf("source dir: %w", err)
	}
	if err := c.fetchURL(ctx, u, local); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("download source: %w", context.Cause(ctx))
		}
		if derr := diskError(err, local); derr != err {
			// The partial file is what fills the disk: resuming it
			// later cannot work, and keeping it would fail this
			// agent's next tasks too.
			c.evict(key)
			return "", derr
		}
		return "", classifyDownload(err)
	}
	c.log.Debug("source downloaded", "source", redactURL(u), "local", local)
	return local, nil
}

// redactURL returns u without user information and query, for logs.
func redactURL(u *url.URL) string {
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		r.RawQuery = "REDACTED"
	}
	return r.String()
}

// lock returns the mutex serialising downloads of one cache key.
func (c *sourceCache) lock(key string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[key] = l
	}
	return l
}

// sourceTTL is how long a downloaded source stays unused before the cache
// deletes it. Tasks of one job run within minutes of each other; a source
// needed later is simply fetched again.
const sourceTTL = time.Hour

// sweep deletes cached sources unused for sourceTTL, except keep and any
// being downloaded right now (their lock is held).
func (c *sourceCache) sweep(keep string) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-sourceTTL)
	for _, e := range entries {
		if e.Name() == keep {
			continue
		}
		l := c.lock(e.Name())
		if !l.TryLock() {
			continue
		}
		st, err := os.Stat(filepath.Join(c.dir, e.Name(), "source"))
		if err != nil {
			// A partial download waits for the next attempt to resume it.
			st, err = os.Stat(filepath.Join(c.dir, e.Name(), "source.part"))
		}
		if err != nil || st.ModTime().Before(cutoff) {
			if err := os.RemoveAll(filepath.Join(c.dir, e.Name())); err == nil {
				c.log.Debug("evicted cached source", "key", e.Name())
			}
		}
		l.Unlock()
	}
}

// evict deletes the cache entry key (its caller holds its lock), such as
// a partial download that ran out of disk.
func (c *sourceCache) evict(key string) {
	if err := os.RemoveAll(filepath.Join(c.dir, key)); err != nil {
		c.log.Warn("cannot remove failed download", "key", key, "error", err)
	}
}

// fetch downloads a stored object unless it is already here. An object
// over the size limit is refused before it is downloaded.
func (c *sourceCache) fetch(ctx context.Context, st *storage.Client, path string) (string, error) {
	key := cacheKey(path)
	local := filepath.Join(c.dir, key, "source")
	l := c.lock(key)
	l.Lock()
	defer l.Unlock()
	defer c.sweep(key)
	if cached(local) {
		return local, nil
	}
	if st == nil {
		return "", fmt.Errorf("no storage connection to fetch %s", path)
	}
	if c.policy.MaxBytes > 0 {
		info, err := st.Stat(ctx, path)
		if err != nil {
			return "", fmt.Errorf("fetch source %s: %w", path, err)
		}
		if err := c.policy.CheckSize(info.GetSize()); err != nil {
			return "", permanent(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return "", fmt.Errorf("source dir: %w", err)
	}
	if err := st.GetToFile(ctx, path, local); err != nil {
		if derr := diskError(err, local); derr != err {
			c.evict(key)
			return "", derr
		}
		return "", fmt.Errorf("fetch source %s: %w", path, err)
	}
	c.log.Debug("source fetched", "path", path, "local", local)
	return local, nil
}
