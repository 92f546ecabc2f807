package agent

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/vodfleet/vodfleet/internal/transfer"
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
	// errSourceAuth: the server refused this agent's credentials or its
	// SSH host key is not trusted here. Retried: credentials are per
	// agent, another agent may hold the right ones; the job's attempt
	// limit bounds the retries.
	errSourceAuth = errors.New("source login failed")
	// errSourceConfig: this agent lacks the configuration the scheme
	// needs (e.g. no known_hosts file for sftp). Retried elsewhere.
	errSourceConfig = errors.New("source not configured on this agent")
)

// SourceSchemes are the URL schemes a source may use.
var SourceSchemes = []string{"http", "https", "s3", "sftp", "ftp"}

// sourcePolicy is the URL policy downloads run under: SourceSchemes,
// non-public addresses only as configured, at most MaxSourceBytes.
func (c Config) sourcePolicy() urlpolicy.Policy {
	p := urlpolicy.Default()
	p.Schemes = append([]string(nil), SourceSchemes...)
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

// classifyDownload turns a download failure into the error the task fails
// with: a readable reason first ("source login failed: 127.0.0.1:2222
// refused the credentials"), permanent when retrying cannot help (policy
// refusals, too large, not found, an unusable URL). Messages never carry
// the URL's secrets: transfer and urlpolicy errors name hosts and paths
// only.
func classifyDownload(err error) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // url.Error quotes the whole URL
	}
	switch {
	case errors.Is(err, errDownloadStalled):
		// Retryable, preferably on another agent (another route to
		// the origin); the message already says what happened.
		return err
	case errors.Is(err, urlpolicy.ErrTooLarge):
		return permanent(inner)
	case errors.Is(err, urlpolicy.ErrForbiddenAddress), errors.Is(err, urlpolicy.ErrScheme),
		errors.Is(err, urlpolicy.ErrInvalidURL), errors.Is(err, urlpolicy.ErrTooManyRedirects),
		errors.Is(err, transfer.ErrInvalidURL):
		return permanent(fmt.Errorf("%w: %w", errSourceRefused, inner))
	case errors.Is(err, transfer.ErrNotFound):
		return permanent(fmt.Errorf("%w: %w", errSourceUnavailable, inner))
	case errors.Is(err, transfer.ErrAuth), errors.Is(err, transfer.ErrHostKey):
		return fmt.Errorf("%w: %w", errSourceAuth, inner)
	case errors.Is(err, transfer.ErrConfig):
		return fmt.Errorf("%w: %w", errSourceConfig, inner)
	case errors.Is(err, transfer.ErrMismatch):
		return fmt.Errorf("%w: %w", errSourceUnavailable, inner)
	default:
		return fmt.Errorf("%w: %w", errSourceUnreachable, inner)
	}
}
