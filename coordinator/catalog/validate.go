package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Limits of the client part of a record. They keep one record's index keys
// within one etcd transaction in the common case.
const (
	maxTitle       = 256
	maxDescription = 4096
	maxTags        = 32
	maxMeta        = 32
	maxMetaValue   = 256
)

var (
	tagRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]{0,63}$`)
	keyRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
)

// NormalizeTags lowercases, trims, sorts and de-duplicates tags.
func NormalizeTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// ValidateUserFields checks the client-owned fields of a record (after
// NormalizeTags); the error names the field.
func ValidateUserFields(title, description string, tags []string, meta map[string]string) error {
	if len(title) > maxTitle || !utf8.ValidString(title) {
		return fmt.Errorf("title: at most %d bytes of UTF-8: %w", maxTitle, ErrInvalid)
	}
	if len(description) > maxDescription || !utf8.ValidString(description) {
		return fmt.Errorf("description: at most %d bytes of UTF-8: %w", maxDescription, ErrInvalid)
	}
	if len(tags) > maxTags {
		return fmt.Errorf("tags: %d tags, at most %d: %w", len(tags), maxTags, ErrInvalid)
	}
	for i, t := range tags {
		if !tagRE.MatchString(t) {
			return fmt.Errorf("tags[%d]: %q must be 1-64 characters of [a-z0-9._:-]: %w", i, t, ErrInvalid)
		}
	}
	if len(meta) > maxMeta {
		return fmt.Errorf("meta: %d fields, at most %d: %w", len(meta), maxMeta, ErrInvalid)
	}
	for k, v := range meta {
		if !keyRE.MatchString(k) {
			return fmt.Errorf("meta: key %q must be 1-64 characters of [a-z0-9._-]: %w", k, ErrInvalid)
		}
		if v == "" || len(v) > maxMetaValue || !utf8.ValidString(v) {
			return fmt.Errorf("meta.%s: value must be 1-%d bytes of UTF-8: %w", k, maxMetaValue, ErrInvalid)
		}
	}
	return nil
}

// validName checks a preset or destination name.
func validName(field, n string) error {
	if !nameRE.MatchString(n) {
		return fmt.Errorf("%s: %q must match [a-z0-9][a-z0-9._-]{0,62}: %w", field, n, ErrInvalid)
	}
	return nil
}

// destSchemes are the destination URL schemes the transfer tasks know.
var destSchemes = map[string]bool{"s3": true, "sftp": true, "ftp": true, "http": true, "https": true, "file": true}

// secretWords mark option keys that look like credentials: secrets come
// from the agents' config or environment, never from stored data.
var secretWords = []string{"secret", "password", "passwd", "token", "credential", "private", "access_key", "accesskey"}

// ValidateDestination checks a named destination; the error names the
// field. A URL with a password or a secret-looking option is refused.
func ValidateDestination(d *v1.Destination) error {
	if err := validName("destination.name", d.GetName()); err != nil {
		return err
	}
	u, err := url.Parse(d.GetUrl())
	if err != nil || d.GetUrl() == "" {
		return fmt.Errorf("destination.url: not a URL: %w", ErrInvalid)
	}
	if !destSchemes[u.Scheme] {
		return fmt.Errorf("destination.url: scheme %q is not one of s3, sftp, ftp, http, https, file: %w", u.Scheme, ErrInvalid)
	}
	if _, has := u.User.Password(); has {
		return fmt.Errorf("destination.url: must not contain a password (credentials come from the agent's config): %w", ErrInvalid)
	}
	if u.RawQuery != "" {
		return fmt.Errorf("destination.url: must not have a query (use options): %w", ErrInvalid)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || u.Path == "" {
			return fmt.Errorf("destination.url: a file URL is file:///DIR: %w", ErrInvalid)
		}
	default:
		if u.Host == "" {
			return fmt.Errorf("destination.url: missing host or bucket: %w", ErrInvalid)
		}
	}
	if len(d.GetOptions()) > 32 {
		return fmt.Errorf("destination.options: at most 32: %w", ErrInvalid)
	}
	for k, v := range d.GetOptions() {
		if !keyRE.MatchString(k) || len(v) > 1024 {
			return fmt.Errorf("destination.options.%s: key must be [a-z0-9._-], value at most 1024 bytes: %w", k, ErrInvalid)
		}
		lk := strings.ToLower(k)
		for _, w := range secretWords {
			if strings.Contains(lk, w) {
				return fmt.Errorf("destination.options.%s: looks like a secret; secrets belong in the agent's config or environment: %w", k, ErrInvalid)
			}
		}
	}
	return nil
}
