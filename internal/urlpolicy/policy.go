package urlpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// MaxRedirects is how many HTTP redirects a fetch follows. Each hop is
// re-checked, but a long chain is still a sign of abuse or a loop.
const MaxRedirects = 5

// supportedSchemes are the schemes the platform has (or will have) a
// transfer for. Validate refuses anything else, so an operator cannot
// enable file: or gopher: by accident.
var supportedSchemes = map[string]bool{
	"http": true, "https": true, "s3": true, "sftp": true, "ftp": true,
}

// userSchemes are the schemes whose URLs may carry a user name (never a
// password): the login is part of which account to use, while the secret
// belongs in the agent's credential store, not in job records.
var userSchemes = map[string]bool{"sftp": true, "ftp": true}

// defaultSchemes is what an empty Policy.Schemes means.
var defaultSchemes = []string{"http", "https"}

// Policy decides which source URLs agents may fetch and which addresses
// they may connect to. It is a plain value, safe to copy and to use from
// many goroutines. The zero value behaves like Default().
type Policy struct {
	// Schemes lists the URL schemes sources may use; matching is
	// case-insensitive. Empty means http and https. Each entry must be one
	// the platform can fetch (http, https, s3, sftp, ftp): enabling s3,
	// sftp or ftp is an operator decision taken as those transfers land.
	Schemes []string

	// AllowPrivate lets sources reach every non-public address: loopback,
	// RFC 1918 and ULA, link-local (including cloud metadata at
	// 169.254.169.254), CGNAT 100.64/10, unspecified, multicast and
	// reserved ranges. Off by default because a user-supplied URL must not
	// become a way into the fleet's own network; turn it on only for
	// single-host development and tests.
	AllowPrivate bool

	// AllowedCIDRs lists networks, such as "10.1.0.0/16", that sources may
	// reach even though they are not public: an internal media origin
	// without opening the whole private network as AllowPrivate would.
	// IPv4 prefixes also match IPv4-mapped IPv6 addresses. Host names are
	// not accepted here because the connect-time check only sees addresses.
	AllowedCIDRs []string

	// MaxBytes caps a source's size in bytes, checked against the declared
	// length and against the bytes actually read; 0 means unlimited. It
	// bounds the disk and bandwidth a single job can make an agent spend.
	MaxBytes int64
}

// Default returns the production policy: http and https only, public
// addresses only, no size limit.
func Default() Policy {
	return Policy{Schemes: append([]string(nil), defaultSchemes...)}
}

// Validate reports every problem with the policy's configuration, joined,
// each wrapping ErrInvalidPolicy.
func (p Policy) Validate() error {
	var errs []error
	for _, s := range p.Schemes {
		if !supportedSchemes[strings.ToLower(s)] {
			errs = append(errs, fmt.Errorf("%w: scheme %q is not supported", ErrInvalidPolicy, s))
		}
	}
	for _, c := range p.AllowedCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("%w: allowed cidr %q: %w", ErrInvalidPolicy, c, err))
		}
	}
	if p.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max bytes %d is negative", ErrInvalidPolicy, p.MaxBytes))
	}
	return errors.Join(errs...)
}

// allowsScheme reports whether scheme (lowercase) is both configured and
// supported, so an unvalidated policy still fails closed.
func (p Policy) allowsScheme(scheme string) bool {
	if !supportedSchemes[scheme] {
		return false
	}
	schemes := p.Schemes
	if len(schemes) == 0 {
		schemes = defaultSchemes
	}
	for _, s := range schemes {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// allowlisted reports whether ip (unmapped, without zone) is inside one of
// AllowedCIDRs. Entries that do not parse match nothing.
func (p Policy) allowlisted(ip netip.Addr) bool {
	for _, c := range p.AllowedCIDRs {
		if pfx, err := netip.ParsePrefix(c); err == nil && pfx.Masked().Contains(ip) {
			return true
		}
	}
	return false
}
