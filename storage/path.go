package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxPathLen bounds object paths, far below Badger's key limit, so a path
// always fits in a key, a URL and a file name component list.
const maxPathLen = 1024

// validatePath checks that p is a canonical relative object path: non-empty,
// not absolute, no empty, "." or ".." segments, no backslashes, no control
// bytes, valid UTF-8 and at most maxPathLen bytes.
func validatePath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path: %w", ErrInvalidPath)
	}
	if err := validateFragment(p); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("path %q has an empty segment or is absolute: %w", p, ErrInvalidPath)
		case ".", "..":
			return fmt.Errorf("path %q has a %q segment: %w", p, seg, ErrInvalidPath)
		}
	}
	return nil
}

// validatePrefix checks a List prefix: empty (everything) or a string that
// could begin a valid path. A trailing slash is allowed, and so is a partial
// last segment ("assets/ab" matches "assets/abc/x").
func validatePrefix(p string) error {
	if p == "" {
		return nil
	}
	if err := validateFragment(p); err != nil {
		return err
	}
	return validatePath(strings.TrimSuffix(p, "/"))
}

// dirPrefix validates a Publish prefix and returns it with a trailing slash,
// so "staging/t/1" cannot also match "staging/t/10/...".
func dirPrefix(p string) (string, error) {
	d := strings.TrimSuffix(p, "/")
	if err := validatePath(d); err != nil {
		return "", fmt.Errorf("prefix: %w", err)
	}
	return d + "/", nil
}

// validateFragment applies the byte-level rules shared by paths and prefixes.
func validateFragment(p string) error {
	if len(p) > maxPathLen {
		return fmt.Errorf("path longer than %d bytes: %w", maxPathLen, ErrInvalidPath)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("path %q is not valid UTF-8: %w", p, ErrInvalidPath)
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q is absolute: %w", p, ErrInvalidPath)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("path %q has forbidden byte %#x: %w", p, c, ErrInvalidPath)
		}
	}
	return nil
}
