package transfer

import (
	"errors"
	"syscall"
)

// Sentinel errors. Errors from this package wrap one of them (or a
// urlpolicy sentinel for refused addresses) so callers decide what to do
// with errors.Is, never by reading message text.
var (
	// ErrInvalidURL marks a destination or source URL that cannot be used:
	// unknown scheme, missing host or path, a password in the URL.
	ErrInvalidURL = errors.New("invalid transfer url")
	// ErrConfig marks missing or unusable local configuration, such as an
	// SFTP destination without a known_hosts file.
	ErrConfig = errors.New("invalid transfer configuration")
	// ErrAuth marks credentials the server refused. Retrying cannot help,
	// so Push and Fetch fail at once; the message names the host only.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey marks an SFTP server whose host key is unknown or differs
	// from the one in known_hosts: possibly a man in the middle, never
	// accepted silently.
	ErrHostKey = errors.New("ssh host key not trusted")
	// ErrNotFound marks a path the server does not have. Stat returns it
	// for files not yet pushed.
	ErrNotFound = errors.New("not found")
	// ErrMismatch marks a download whose size or checksum differs from
	// what the server announced.
	ErrMismatch = errors.New("size or checksum mismatch")
)

// permanent reports whether err cannot be cured by retrying.
func permanent(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrHostKey) ||
		errors.Is(err, ErrInvalidURL) || errors.Is(err, ErrConfig) ||
		errors.Is(err, ErrNotFound) ||
		// A full local disk: writing again will not find room.
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
