package agent

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// Sentinel errors of source downloads. Which of them are permanent is
// decided in classifyDownload; the rest are retried by the coordinator.
var (
	// errSourceUnreachable: no connection or no response (refused, DNS,
	// timeout, reset before the headers). Retried: the origin may be back.
	errSourceUnreachable = errors.New("source unreachable")
	// errSourceUnavailable: the origin answered with an error status.
	errSourceUnavailable = errors.New("source unavailable")
	// errSourceRefused: the URL or an address it leads to is outside the
	// source policy. Permanent.
	errSourceRefused = errors.New("source url refused")
	// errDownloadInterrupted: the body stopped early; the next try resumes.
	errDownloadInterrupted = errors.New("source download interrupted")
	// errDownloadStalled: no body bytes for downloadIdleTimeout.
	errDownloadStalled = errors.New("source download stalled")
)

// sourcePolicy is the URL policy downloads run under: http(s) only,
// non-public addresses only as configured, at most MaxSourceBytes.
func (c Config) sourcePolicy() urlpolicy.Policy {
	p := urlpolicy.Default()
	p.AllowPrivate = c.AllowPrivateSources
	p.AllowedCIDRs = c.AllowedSourceCIDRs
	p.MaxBytes = c.MaxSourceBytes
	return p
}

// permanentError marks err as one retrying cannot fix (errors.Is matches
// errPermanent) without adding to its message.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }

// Unwrap returns the error and errPermanent.
func (p permanentError) Unwrap() []error { return []error{p.err, errPermanent} }

// permanent wraps err as a permanentError.
func permanent(err error) error { return permanentError{err} }

// httpStatusError is a response status the download cannot use.
type httpStatusError struct {
	code   int
	status string // "404 Not Found"
}

func (e *httpStatusError) Error() string { return "HTTP " + e.status }

// retryableStatus reports whether a status may go away on its own.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooEarly ||
		code == http.StatusTooManyRequests || code >= 500
}

// classifyDownload turns a download failure into the error the task fails
// with: a readable reason first ("source unreachable: dial tcp ...:
// connection refused"), permanent when retrying cannot help (policy
// refusals, too large, 4xx statuses). The URL itself is never part of the
// message: it may carry a signed query.
func classifyDownload(err error) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // url.Error quotes the whole URL
	}
	var se *httpStatusError
	switch {
	case errors.Is(err, urlpolicy.ErrTooLarge):
		return permanent(inner)
	case errors.Is(err, urlpolicy.ErrForbiddenAddress), errors.Is(err, urlpolicy.ErrScheme),
		errors.Is(err, urlpolicy.ErrInvalidURL), errors.Is(err, urlpolicy.ErrTooManyRedirects):
		return permanent(fmt.Errorf("%w: %w", errSourceRefused, inner))
	case errors.As(err, &se):
		if retryableStatus(se.code) {
			return fmt.Errorf("%w: %w", errSourceUnavailable, se)
		}
		return permanent(fmt.Errorf("%w: %w", errSourceUnavailable, se))
	case errors.Is(err, errDownloadInterrupted), errors.Is(err, errDownloadStalled):
		return inner
	default:
		return fmt.Errorf("%w: %w", errSourceUnreachable, inner)
	}
}
