package urlpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength bounds a source URL in bytes. Real sources are far shorter;
// the bound keeps job records and logs small.
const MaxURLLength = 8192

// CheckURL parses raw and returns it if the policy allows it as a source:
// an absolute URL with an allowed scheme (case-insensitive), a host, no
// fragment, no user information for http(s) (a user name but no password
// for sftp and ftp), a port in 1-65535, and a host that is either a name
// or a literal IP the policy allows (see CheckIP). Host names are not
// resolved here; Control judges the addresses they resolve to when a
// connection is made. Names must be ASCII (punycode for IDNs), and names
// whose last label is numeric, which resolvers may read as IPv4 in decimal,
// octal or hex form, are refused. "localhost" names are refused unless
// AllowPrivate is set. Errors wrap ErrInvalidURL, ErrScheme or
// ErrForbiddenAddress and never contain user information.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidURL, MaxURLLength)
	}
	// url.Parse splits at the first '#', so any '#' starts a fragment,
	// even an empty one. Fragments are never sent and only hide intent.
	if strings.Contains(raw, "#") {
		return nil, fmt.Errorf("%w: fragments are not allowed", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error quotes the whole URL, credentials included; keep only
		// the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if err := p.checkParsed(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkParsed applies every CheckURL rule except the fragment rule to an
// already parsed URL. Redirect targets go through it directly: a fragment
// in a Location header is legitimate and never sent.
func (p Policy) checkParsed(u *url.URL) error {
	if u.Scheme == "" {
		return fmt.Errorf("%w: not an absolute url", ErrInvalidURL)
	}
	scheme := strings.ToLower(u.Scheme)
	if !p.allowsScheme(scheme) {
		return fmt.Errorf("%w: %q", ErrScheme, scheme)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: %s url without //host", ErrInvalidURL, scheme)
	}
	if u.User != nil {
		if !userSchemes[scheme] {
			return fmt.Errorf("%w: credentials are not allowed in %s urls", ErrInvalidURL, scheme)
		}
		if _, has := u.User.Password(); has {
			return fmt.Errorf("%w: passwords are not allowed in urls", ErrInvalidURL)
		}
		if u.User.Username() == "" {
			return fmt.Errorf("%w: empty user name", ErrInvalidURL)
		}
	}
	return p.checkHost(u)
}

// checkHost checks the URL's port and host.
func (p Policy) checkHost(u *url.URL) error {
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: missing host", ErrInvalidURL)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: invalid port %q", ErrInvalidURL, port)
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return fmt.Errorf("%w: invalid IPv6 literal %q", ErrInvalidURL, host)
		}
		return p.CheckIP(ip)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Is4() {
			return fmt.Errorf("%w: IPv6 literal %q without brackets", ErrInvalidURL, host)
		}
		return p.CheckIP(ip)
	}
	return p.checkName(host)
}

// checkName checks a host that is not an IP literal.
func (p Policy) checkName(host string) error {
	name := strings.TrimSuffix(host, ".") // one trailing dot: a rooted name
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%w: invalid host name %q", ErrInvalidURL, host)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return fmt.Errorf("%w: invalid host name %q", ErrInvalidURL, host)
		}
	}
	if numericLabel(labels[len(labels)-1]) {
		return fmt.Errorf("%w: numeric host %q is ambiguous; use a dotted-quad IPv4 address",
			ErrInvalidURL, host)
	}
	lower := strings.ToLower(name)
	if !p.AllowPrivate && (lower == "localhost" || strings.HasSuffix(lower, ".localhost")) {
		return fmt.Errorf("%w: %q names the local host", ErrForbiddenAddress, host)
	}
	return nil
}

// validLabel reports whether l is an ASCII host name label: 1-63 letters,
// digits, hyphens or underscores, not starting or ending with a hyphen (a
// leading hyphen would read as an option to tools such as ssh).
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// numericLabel reports whether l is all decimal digits or a 0x-prefixed
// hex number: the WHATWG "ends in a number" rule, under which inet_aton
// style parsers treat the whole host as an IPv4 address.
func numericLabel(l string) bool {
	digits := "0123456789"
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		l = l[2:]
		digits = "0123456789abcdefABCDEF"
	}
	for i := 0; i < len(l); i++ {
		if !strings.ContainsRune(digits, rune(l[i])) {
			return false
		}
	}
	return true
}
