package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// forwardedHeaders are the request headers passed to the origin when an
// object is streamed rather than cached, so ranges and revalidation work
// end to end for large files.
var forwardedHeaders = []string{
	"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range",
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

// do sends one GET for key to the origin.
func (f *Fetcher) do(ctx context.Context, key string, hdr http.Header) (*http.Response, error) {
	u, err := f.objectURL(ctx, key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrOrigin, key, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	f.fetches.Add(1)
	start := time.Now() // latency is measured on the real clock, not f.now
	resp, err := f.client.Do(req)
	f.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, f.transportError(key, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		f.router.forget(assetOf(key))
	}
	return resp, nil
}

// objectURL escapes each segment of key into the object URL on the origin
// of the node holding its asset.
func (f *Fetcher) objectURL(ctx context.Context, key string) (string, error) {
	base, err := f.router.base(ctx, assetOf(key))
	if err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return base + "/o/assets/" + strings.Join(segs, "/"), nil
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
