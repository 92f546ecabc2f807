package urlpolicy

import "errors"

// Sentinel errors. Every error this package returns wraps exactly one of
// them (Validate may join several); callers match with errors.Is, never on
// message text.
var (
	// ErrInvalidURL marks a source URL that is malformed or uses a form the
	// policy refuses: missing host, credentials, a fragment, an ambiguous
	// numeric host, a bad port.
	ErrInvalidURL = errors.New("invalid source url")
	// ErrScheme marks a URL whose scheme the policy does not allow.
	ErrScheme = errors.New("source url scheme not allowed")
	// ErrForbiddenAddress marks a host or connection address that is not
	// public and not allowlisted.
	ErrForbiddenAddress = errors.New("source address forbidden")
	// ErrTooLarge marks a source whose declared or actual size exceeds
	// Policy.MaxBytes.
	ErrTooLarge = errors.New("source too large")
	// ErrTooManyRedirects marks an HTTP fetch that was redirected more than
	// MaxRedirects times.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrInvalidPolicy marks a Policy that fails Validate.
	ErrInvalidPolicy = errors.New("invalid url policy")
)
