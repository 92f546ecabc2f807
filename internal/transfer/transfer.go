package transfer

import (
	"context"
	"io"
)

// Info describes a remote file.
type Info struct {
	// Size is the length in bytes.
	Size int64
	// MD5 is the lowercase hex MD5 of the content when the server offers
	// one (S3 single-part ETags, metadata written by Push, local files),
	// else empty. Callers compare it only when both sides have it.
	MD5 string
	// Version identifies this content for conditional resumed reads (an
	// HTTP or S3 ETag, or a Last-Modified date); empty when unknown.
	Version string
}

// Meta is what Push knows about a file besides its bytes.
type Meta struct {
	// ContentType is the MIME type, set on protocols that store one
	// (S3, HTTP).
	ContentType string
	// CacheControl is the Cache-Control header value for protocols that
	// store one: short for manifests, which may be rewritten, long for
	// immutable segments.
	CacheControl string
	// MD5 is the lowercase hex MD5 of the content, stored where the
	// protocol allows (S3 metadata) so a later Stat can compare it.
	MD5 string
}

// Destination is a remote directory a package is pushed into. Paths are
// slash-separated and relative to the directory named by the URL.
// Implementations are safe for concurrent use.
type Destination interface {
	// Stat returns the size (and MD5 when known) of rel, or an error
	// wrapping ErrNotFound when it does not exist.
	Stat(ctx context.Context, rel string) (Info, error)
	// Put stores size bytes read from body as rel, creating parent
	// directories as needed. It is atomic: readers see the old file or
	// the whole new one (temporary name then rename where the protocol
	// needs it). progress, if not nil, is called with byte counts as they
	// are sent.
	Put(ctx context.Context, rel string, body io.ReaderAt, size int64, meta Meta, progress func(n int64)) error
	// String returns the URL without any secret, for logs and errors.
	String() string
	// Close releases connections.
	Close() error
}

// Source is one remote file to download.
type Source interface {
	// Stat returns the file's size, and MD5 and version when known.
	Stat(ctx context.Context) (Info, error)
	// Open returns the content from offset on. If the server cannot
	// resume (or the file changed since Stat, for sources with versions)
	// it returns the whole content and start 0; the caller must then
	// discard what it had.
	Open(ctx context.Context, offset int64, info Info) (body io.ReadCloser, start int64, err error)
	// String returns the URL without any secret, for logs and errors.
	String() string
	// Close releases connections.
	Close() error
}

// Progress receives the bytes transferred so far and the total. Push and
// Fetch call it one call at a time, from their transferring goroutines,
// so it must be quick.
type Progress func(done, total int64)
