package transfer

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// ParseDestination builds the Destination a URL names: file:///DIR,
// http(s)://HOST[:PORT]/DIR, sftp://USER@HOST[:PORT]/DIR,
// ftp://[USER@]HOST[:PORT]/DIR or s3://BUCKET/PREFIX. Secrets in the URL
// (passwords) are refused; they come from the places Options names.
// Connections are made lazily or here, depending on the protocol;
// callers Close the result.
func ParseDestination(raw string, opts Options) (Destination, error) {
	u, err := parseURL(raw, false)
	if err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	switch u.Scheme {
	case "file":
		return newFileDest(u)
	case "http", "https":
		return newHTTPDest(u, opts)
	case "sftp":
		return newSFTPDest(u, opts)
	case "ftp":
		return newFTPDest(u, opts)
	case "s3":
		return newS3Dest(u, opts)
	}
	return nil, fmt.Errorf("%w: scheme %q is not supported", ErrInvalidURL, u.Scheme)
}

// ParseSource builds the Source for one remote file: http(s)://HOST/PATH,
// sftp://USER@HOST[:PORT]/PATH, ftp://[USER@]HOST[:PORT]/PATH or
// s3://BUCKET/KEY. The URL must pass opts.Policy.CheckURL (so the
// operator's scheme list and address rules apply to sources); file URLs
// are never sources, since a user-supplied source must not read the
// agent's own disk.
func ParseSource(raw string, opts Options) (Source, error) {
	if _, err := opts.Policy.CheckURL(raw); err != nil {
		return nil, err
	}
	// HTTP sources may carry a query (signed URLs); it is part of the
	// request but never of logs or errors (see redact).
	u, err := parseURL(raw, true)
	if err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if strings.HasSuffix(u.Path, "/") || u.Path == "" {
		return nil, fmt.Errorf("%w: %s names a directory, not a file", ErrInvalidURL, redact(u))
	}
	switch u.Scheme {
	case "http", "https":
		return newHTTPSource(u, opts)
	case "sftp":
		return newSFTPSource(u, opts)
	case "ftp":
		return newFTPSource(u, opts)
	case "s3":
		return newS3Source(u, opts)
	}
	return nil, fmt.Errorf("%w: scheme %q is not supported as a source", ErrInvalidURL, u.Scheme)
}

// parseURL parses raw and applies the rules every transfer URL shares.
// httpQuery allows a query on http(s) URLs.
func parseURL(raw string, httpQuery bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error quotes the URL, which might hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("%w: passwords are not allowed in urls; use the credentials file", ErrInvalidURL)
	}
	queryOK := httpQuery && (u.Scheme == "http" || u.Scheme == "https")
	if u.Fragment != "" || (u.RawQuery != "" && !queryOK) {
		return nil, fmt.Errorf("%w: query and fragment are not allowed", ErrInvalidURL)
	}
	if u.Scheme != "file" && u.Host == "" {
		return nil, fmt.Errorf("%w: missing host", ErrInvalidURL)
	}
	return u, nil
}

// redact returns u as a string without user information beyond the user
// name and without its query (which may be a signature), for errors and
// logs.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if c.RawQuery != "" {
		c.RawQuery = "REDACTED"
	}
	return c.String()
}

// joinRel joins a destination's base path and a relative file path,
// refusing paths that climb out of the base.
func joinRel(base, rel string) (string, error) {
	clean := path.Clean("/" + rel)
	if clean == "/" || strings.Contains(rel, "\\") || clean != "/"+strings.TrimPrefix(rel, "/") {
		return "", fmt.Errorf("%w: bad relative path %q", ErrInvalidURL, rel)
	}
	return path.Join(base, clean), nil
}

// CheckDestinationURL reports whether raw is a destination URL
// ParseDestination accepts, without connecting anywhere: a supported
// scheme, a host (except file), a directory, no password, query or
// fragment. Coordinators call it at submit; errors wrap ErrInvalidURL and
// never quote the URL.
func CheckDestinationURL(raw string) error {
	u, err := parseURL(raw, false)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "file":
		if !path.IsAbs(u.Path) || u.Host != "" {
			return fmt.Errorf("%w: file url needs an absolute path and no host", ErrInvalidURL)
		}
	case "http", "https":
		if u.User != nil {
			return fmt.Errorf("%w: http urls take no user; use the credentials file", ErrInvalidURL)
		}
	case "sftp", "ftp":
		if u.Path == "" {
			return fmt.Errorf("%w: %s url needs a directory", ErrInvalidURL, u.Scheme)
		}
	case "s3":
	default:
		return fmt.Errorf("%w: scheme %q is not supported", ErrInvalidURL, u.Scheme)
	}
	return nil
}
