package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// Default values for Options.
const (
	DefaultConcurrency = 4
	DefaultRetries     = 4
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultS3PartSize  = 16 << 20
	minS3PartSize      = 5 << 20
	DefaultDialTimeout = 30 * time.Second
)

// Options configures destinations, sources, Push and Fetch. Secrets are
// never here: only where to read them from. The zero value works for
// public S3 and HTTP servers with the production address policy.
type Options struct {
	// Policy is the operator's address policy: every connection is made
	// through its dialer, so private and loopback servers are refused
	// unless it allows them (tests set AllowPrivate).
	Policy urlpolicy.Policy
	// CredentialsFile is a netrc-style file ("machine HOST[:PORT] login
	// USER password SECRET") holding FTP and HTTP credentials; empty
	// means none (anonymous FTP, unauthenticated HTTP).
	CredentialsFile string
	// SSHKeyFile is the private key SFTP logs in with (OpenSSH or PEM
	// format, unencrypted).
	SSHKeyFile string
	// KnownHostsFile is the OpenSSH known_hosts file SFTP host keys are
	// checked against. Required for sftp: an unknown or changed key fails
	// with ErrHostKey.
	KnownHostsFile string
	// FTPExplicitTLS makes FTP upgrade the control and data connections
	// with AUTH TLS before logging in.
	FTPExplicitTLS bool
	// FTPCAFile is a PEM file of CA certificates trusted for FTP over
	// TLS instead of the system pool (for servers with a private CA).
	FTPCAFile string
	// FTPInsecureSkipVerify accepts any FTP server certificate. It makes
	// TLS useless against an active attacker; never use it in production.
	FTPInsecureSkipVerify bool
	// S3PartSize is the part size of multipart uploads; objects larger
	// than one part are uploaded in parts. Minimum 5 MiB (an S3 limit).
	S3PartSize int64
	// Concurrency is how many files Push sends at once.
	Concurrency int
	// Retries is how many times a failed file is retried before Push or
	// Fetch gives up (0 means DefaultRetries; negative means none).
	Retries int
	// Backoff is the first retry delay; it doubles after each attempt.
	Backoff time.Duration
	// MaxBackoff caps the retry delay, so a long outage is probed at a
	// steady pace rather than ever more rarely.
	MaxBackoff time.Duration
	// Sleep waits between retries; tests inject one that does not touch
	// the wall clock. Nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per file and per retry; nil means none.
	Logger hclog.Logger
}

// withDefaults returns a copy with zero fields filled in.
func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.S3PartSize <= 0 {
		o.S3PartSize = DefaultS3PartSize
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Validate reports configuration errors, each wrapping ErrConfig.
func (o Options) Validate() error {
	if err := o.Policy.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if o.S3PartSize != 0 && o.S3PartSize < minS3PartSize {
		return fmt.Errorf("%w: s3 part size %d is below the 5 MiB minimum", ErrConfig, o.S3PartSize)
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
