package edge

import (
	"net/http"
	"strconv"
	"time"
)

// objectMeta is what the edge knows about a cached object apart from its
// bytes; memory Objects and disk entries share it. The response header
// values are formatted once, when the object enters the cache, and the
// same slices are assigned to every response, so a hit formats nothing.
// It is immutable once built.
type objectMeta struct {
	contentType  string
	etag         string
	lastModified time.Time
	// expires is when the edge must refetch the object; zero means never
	// (segments are immutable, only playlists expire).
	expires time.Time

	// Preformatted header values, each a one-element slice (len == cap, so
	// an Add by anyone appends to a copy and never to the shared array).
	hContentType  []string
	hETag         []string
	hLastModified []string
	hCacheControl []string
	hLength       []string
}

// newObjectMeta builds the metadata and formats its header values; size
// is the body length, for Content-Length.
func newObjectMeta(contentType, etag string, lastModified, expires time.Time, cacheControl string, size int64) objectMeta {
	m := objectMeta{
		contentType:  contentType,
		etag:         etag,
		lastModified: lastModified,
		expires:      expires,
		hLength:      []string{strconv.FormatInt(size, 10)},
	}
	if contentType != "" {
		m.hContentType = []string{contentType}
	}
	if etag != "" {
		m.hETag = []string{etag}
	}
	if !lastModified.IsZero() {
		m.hLastModified = []string{lastModified.UTC().Format(http.TimeFormat)}
	}
	if cacheControl != "" {
		m.hCacheControl = []string{cacheControl}
	}
	return m
}

// setHeaders writes the entity headers (not Content-Length) into h. Keys
// are already canonical, so the map is written directly.
func (m *objectMeta) setHeaders(h http.Header) {
	if m.hContentType != nil {
		h["Content-Type"] = m.hContentType
	}
	if m.hETag != nil {
		h["Etag"] = m.hETag
	}
	if m.hLastModified != nil {
		h["Last-Modified"] = m.hLastModified
	}
	if m.hCacheControl != nil {
		h["Cache-Control"] = m.hCacheControl
	}
	h["Accept-Ranges"] = hdrBytes
}

// ContentType returns the media type the edge serves the object with.
func (m *objectMeta) ContentType() string { return m.contentType }

// ETag returns the quoted entity tag (the origin's sha256), used for
// If-None-Match and If-Range.
func (m *objectMeta) ETag() string { return m.etag }

// LastModified returns the origin's Last-Modified time, zero if unknown.
func (m *objectMeta) LastModified() time.Time { return m.lastModified }

// Fresh reports whether the object may still be served at now without
// asking the origin again. A stale object is still kept: it is served when
// the origin fails (stale-if-error).
func (m *objectMeta) Fresh(now time.Time) bool {
	return m.expires.IsZero() || now.Before(m.expires)
}
