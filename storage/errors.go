package storage

import "errors"

// Sentinel errors returned (wrapped with %w) by the Store. Match them with
// errors.Is; the gRPC and HTTP front ends map them to status codes in one
// place each (grpcstatus.go, httporigin.go).
var (
	// ErrNotFound means no object is stored at the path, or no asset has
	// the id (DeleteAsset).
	ErrNotFound = errors.New("object not found")
	// ErrInvalidPath means a path or prefix is empty, absolute, contains
	// "." or ".." segments, empty segments, backslashes or control bytes, or
	// is too long; or that an asset id is not 1 to 64 characters of
	// [A-Za-z0-9_-], including the <asset> segment of "assets/<asset>/...".
	// Paths are also URL and file-name fragments downstream, so they are
	// kept strictly canonical.
	ErrInvalidPath = errors.New("invalid path")
	// ErrCorrupt means stored content no longer matches its recorded size
	// or SHA-256 (bit rot, truncation, a missing blob file).
	ErrCorrupt = errors.New("object content is corrupt")
	// ErrSizeMismatch means an upload's length differs from the size the
	// caller announced; the upload is discarded.
	ErrSizeMismatch = errors.New("object size mismatch")
	// ErrClosed means the Store has been closed.
	ErrClosed = errors.New("store closed")
)
