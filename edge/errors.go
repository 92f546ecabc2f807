package edge

import "errors"

// Sentinel errors returned (wrapped with %w) by the Fetcher. The Server maps
// them to HTTP statuses in one place; callers match with errors.Is, never on
// message text.
var (
	// ErrNotFound means the origin answered 404: the object does not exist.
	ErrNotFound = errors.New("edge: object not found at origin")
	// ErrOrigin means the origin could not serve the object: connection
	// failure, unexpected status, truncated body or timeout.
	ErrOrigin = errors.New("edge: origin failure")
	// ErrTimeout accompanies ErrOrigin when the failure was the origin not
	// answering in time, which the Server reports as 504 instead of 502.
	ErrTimeout = errors.New("edge: origin timeout")
	// ErrTooLarge means the object exceeds MaxObjectBytes and was not
	// buffered; the caller should stream it with Fetcher.Open instead.
	ErrTooLarge = errors.New("edge: object too large to cache")
)

// Sentinel errors of signed URL verification (VerifyToken). The Server
// answers all of them with 403.
var (
	// ErrTokenInvalid means the token is missing, malformed, or its HMAC
	// does not match: it was not issued with this key.
	ErrTokenInvalid = errors.New("edge: invalid url token")
	// ErrTokenExpired means the token is authentic but past its expiry.
	ErrTokenExpired = errors.New("edge: url token expired")
	// ErrTokenScope means the token is authentic and current but the
	// requested path is not under the prefix it was signed for.
	ErrTokenScope = errors.New("edge: url token does not cover path")
)
