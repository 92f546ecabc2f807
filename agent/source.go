package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Protocol whitelists handed to ffmpeg/ffprobe: a stored source may only be
// read as a local file; a URL source only over http(s).
const (
	whitelistFile = "file"
	whitelistHTTP = "http,https,tcp,tls"
)

// sourceCache downloads stored sources once per agent, so the probe and
// every encode of a job on this machine share one copy.
type sourceCache struct {
	dir string
	log hclog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func newSourceCache(workDir string, log hclog.Logger) *sourceCache {
	return &sourceCache{dir: filepath.Join(workDir, "sources"), log: log, locks: map[string]*sync.Mutex{}}
}

// input returns what to pass to ffmpeg's -i for src and the protocol
// whitelist that goes with it.
func (c *sourceCache) input(ctx context.Context, st *storage.Client, src *v1.Source) (string, string, error) {
	switch loc := src.GetLocation().(type) {
	case *v1.Source_Url:
		return loc.Url, whitelistHTTP, nil
	case *v1.Source_StoragePath:
		p, err := c.fetch(ctx, st, loc.StoragePath)
		return p, whitelistFile, err
	default:
		return "", "", fmt.Errorf("task has no source: %w", errPermanent)
	}
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
		if err != nil || st.ModTime().Before(cutoff) {
			if err := os.RemoveAll(filepath.Join(c.dir, e.Name())); err == nil {
				c.log.Debug("evicted cached source", "key", e.Name())
			}
		}
		l.Unlock()
	}
}

// fetch downloads a stored object unless it is already here.
func (c *sourceCache) fetch(ctx context.Context, st *storage.Client, path string) (string, error) {
	sum := sha256.Sum256([]byte(path))
	key := hex.EncodeToString(sum[:12])
	local := filepath.Join(c.dir, key, "source")
	l := c.lock(key)
	l.Lock()
	defer l.Unlock()
	defer c.sweep(key)
	if _, err := os.Stat(local); err == nil {
		now := time.Now()
		_ = os.Chtimes(local, now, now) // in use: keep it past the sweep
		return local, nil
	}
	if st == nil {
		return "", fmt.Errorf("no storage connection to fetch %s", path)
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return "", fmt.Errorf("source dir: %w", err)
	}
	if err := st.GetToFile(ctx, path, local); err != nil {
		return "", fmt.Errorf("fetch source %s: %w", path, err)
	}
	c.log.Debug("source fetched", "path", path, "local", local)
	return local, nil
}
