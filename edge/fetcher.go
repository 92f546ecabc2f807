package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"

	"github.com/vodfleet/vodfleet/internal/mediatype"
)

// forwardedHeaders are the request headers passed to the origin when an
// object is streamed rather than cached, so ranges and revalidation work
// end to end for large files.
var forwardedHeaders = []string{
	"Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since",
}

// Fetcher loads objects from a storage node's HTTP origin. Concurrent
// Fetch calls for the same key share one origin request (singleflight), so a
// burst of players starting the same title costs the origin one read per
// object instead of one per player.
type Fetcher struct {
	base           string
	maxObject      int64
	timeout        time.Duration
	playlistMaxAge time.Duration
	now            func() time.Time
	cache          Cache
	transport      *http.Transport
	client         *http.Client
	group          singleflight.Group
	fetches        atomic.Uint64
	log            hclog.Logger
}

// NewFetcher returns a Fetcher for cfg.Origin that fills cache (which may be
// nil) with what it fetches. cfg must have passed Validate.
func NewFetcher(cfg Config, cache Cache, log hclog.Logger) *Fetcher {
	dialer := &net.Dialer{Timeout: cfg.OriginTimeout, KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.ResponseHeaderTimeout = cfg.OriginTimeout
	tr.MaxIdleConnsPerHost = 64
	// Cache the identity bytes the ETag describes; media is incompressible.
	tr.DisableCompression = true
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Fetcher{
		base:           cfg.originBase(),
		maxObject:      cfg.MaxObjectBytes,
		timeout:        cfg.OriginTimeout,
		playlistMaxAge: cfg.PlaylistMaxAge,
		now:            now,
		cache:          cache,
		transport:      tr,
		client:         &http.Client{Transport: tr},
		log:            log,
	}
}

// Fetch returns the object under key ("{asset}/{path}"), fetching it from
// the origin once however many callers ask concurrently, and adds it to the
// cache. The shared fetch is detached from ctx and bounded by OriginTimeout,
// so one impatient player cannot fail the fetch for the others; ctx only
// bounds how long this caller waits. Errors wrap ErrNotFound, ErrOrigin
// (with ErrTimeout) or ErrTooLarge.
func (f *Fetcher) Fetch(ctx context.Context, key string) (*Object, error) {
	ch := f.group.DoChan(key, func() (any, error) { return f.load(ctx, key) })
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Object), nil
	}
}

// Open starts an uncached GET of key for streaming, forwarding range and
// conditional headers from hdr. It returns the origin response for 200, 206,
// 304, 412 and 416, which the caller must close; 404 maps to ErrNotFound and
// anything else to ErrOrigin. Only connecting and the response headers are
// bounded by OriginTimeout, since a large body may legitimately take long.
func (f *Fetcher) Open(ctx context.Context, key string, hdr http.Header) (*http.Response, error) {
	fwd := make(http.Header)
	for _, h := range forwardedHeaders {
		if v := hdr.Values(h); len(v) > 0 {
			fwd[h] = v
		}
	}
	resp, err := f.do(ctx, key, fwd)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusNotModified,
		http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
		return resp, nil
	}
	resp.Body.Close()
	return nil, f.statusError(key, resp.StatusCode)
}

// Fetches returns how many requests have been sent to the origin.
func (f *Fetcher) Fetches() uint64 { return f.fetches.Load() }

// Close releases idle origin connections.
func (f *Fetcher) Close() { f.transport.CloseIdleConnections() }

// load runs once per coalesced fetch.
func (f *Fetcher) load(ctx context.Context, key string) (*Object, error) {
	// A request that missed just before the previous flight for key landed
	// would otherwise fetch the object a second time.
	if f.cache != nil {
		if obj, ok := f.cache.Get(key); ok && obj.Fresh(f.now()) {
			return obj, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
	defer cancel()
	resp, err := f.do(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound && f.cache != nil {
			f.cache.Remove(key)
		}
		return nil, f.statusError(key, resp.StatusCode)
	}
	if resp.ContentLength > f.maxObject {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, key, resp.ContentLength)
	}
	data, err := readBody(resp.Body, resp.ContentLength, f.maxObject)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%w: %s", err, key)
		}
		return nil, f.transportError(key, err)
	}
	obj := &Object{
		data:        data,
		contentType: contentTypeFor(key, resp.Header.Get("Content-Type")),
		etag:        resp.Header.Get("ETag"),
	}
	if obj.etag == "" {
		sum := sha256.Sum256(data)
		obj.etag = `"` + hex.EncodeToString(sum[:]) + `"`
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		obj.lastModified = t
	}
	if mediatype.IsPlaylist(key) {
		obj.expires = f.now().Add(f.playlistMaxAge)
	}
	if f.cache != nil {
		f.cache.Add(key, obj)
	}
	f.log.Debug("fetched object", "key", key, "bytes", len(data))
	return obj, nil
}

// do sends one GET for key to the origin.
func (f *Fetcher) do(ctx context.Context, key string, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.objectURL(key), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrOrigin, key, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	f.fetches.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.transportError(key, err)
	}
	return resp, nil
}

// objectURL escapes each segment of key into the origin's object URL.
func (f *Fetcher) objectURL(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return f.base + "/o/assets/" + strings.Join(segs, "/")
}

// statusError maps an unexpected origin status to a sentinel.
func (f *Fetcher) statusError(key string, status int) error {
	if status == http.StatusNotFound {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	f.log.Warn("origin returned unexpected status", "key", key, "status", status)
	return fmt.Errorf("%w: %s: status %d", ErrOrigin, key, status)
}

// transportError wraps a connection or body error, marking timeouts.
func (f *Fetcher) transportError(key string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		f.log.Warn("origin timed out", "key", key, "error", err)
		return fmt.Errorf("%w: %w: %s: %w", ErrOrigin, ErrTimeout, key, err)
	}
	if !errors.Is(err, context.Canceled) {
		f.log.Warn("origin request failed", "key", key, "error", err)
	}
	return fmt.Errorf("%w: %s: %w", ErrOrigin, key, err)
}

// readBody reads at most limit bytes into a slice sized exactly to the
// body, so the cache's byte accounting matches the memory held.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length >= 0 {
		data := make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrTooLarge
	}
	return bytes.Clone(data), nil
}
