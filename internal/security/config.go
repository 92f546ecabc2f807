package security

import (
	"errors"
	"fmt"
	"time"
)

// Config is how one process secures its gRPC listeners and the calls it
// makes. Every role and the CLI build one from the same flags (see
// cmd/vodfleet/secflags.go).
type Config struct {
	// CertFile and KeyFile are this process's certificate and key (PEM).
	// Servers present them to clients; clients present them to servers
	// (mTLS), and the certificate's Subject OU is the role the peer
	// grants. A client may leave them empty and use a token instead.
	CertFile, KeyFile string
	// CAFile is the cluster CA (PEM): servers verify client certificates
	// against it and clients verify servers with it.
	CAFile string
	// Insecure turns TLS off: plaintext gRPC, tokens sent in clear. Only
	// when explicitly asked for; a process with neither TLS files nor
	// Insecure refuses to start (ErrNoTransportSecurity).
	Insecure bool
	// TokenFile (servers) lists the accepted API tokens by SHA-256 hash,
	// one "sha256:HEX ROLE NAME" per line. Empty: only certificates
	// authenticate, except with Insecure, where an empty TokenFile turns
	// authentication off altogether (a local sandbox).
	TokenFile string
	// Token (clients) is sent as "authorization: Bearer TOKEN".
	Token string
	// SubmitRate and SubmitBurst bound SubmitJob calls per client
	// identity (token bucket); past them the call gets ResourceExhausted.
	SubmitRate  float64
	SubmitBurst int
	// CallTimeout is the deadline given to every unary call made without
	// one, so no call can hang on a dead peer.
	CallTimeout time.Duration
	// MaxMessageBytes bounds gRPC messages both ways (uploads stream in
	// 256 KiB chunks, so this only guards against abuse).
	MaxMessageBytes int
}

// Defaults of Config.
const (
	DefaultSubmitRate      = 10
	DefaultSubmitBurst     = 50
	DefaultCallTimeout     = 30 * time.Second
	DefaultMaxMessageBytes = 16 << 20
)

// DefaultConfig has the limits set and no credentials.
func DefaultConfig() Config {
	return Config{
		SubmitRate: DefaultSubmitRate, SubmitBurst: DefaultSubmitBurst,
		CallTimeout: DefaultCallTimeout, MaxMessageBytes: DefaultMaxMessageBytes,
	}
}

// ErrNoTransportSecurity is returned when neither TLS files nor Insecure
// are given: plaintext is never a silent default.
var ErrNoTransportSecurity = errors.New("no transport security: give --tls-cert, --tls-key and --tls-ca (see `vodfleet dev` for a throwaway CA), or --insecure for plaintext")

// ErrConfig marks an inconsistent security configuration.
var ErrConfig = errors.New("security config")

// Validate reports inconsistent settings. A server needs a certificate,
// its key and the CA (or Insecure); a client needs the CA (or Insecure),
// and a certificate and key only together.
func (c Config) Validate(server bool) error {
	hasTLS := c.CertFile != "" || c.KeyFile != "" || c.CAFile != ""
	switch {
	case c.Insecure && hasTLS:
		return fmt.Errorf("%w: --insecure together with TLS files", ErrConfig)
	case !c.Insecure && !hasTLS:
		return ErrNoTransportSecurity
	case !c.Insecure && c.CAFile == "":
		return fmt.Errorf("%w: --tls-ca is required with TLS", ErrConfig)
	case (c.CertFile == "") != (c.KeyFile == ""):
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", ErrConfig)
	case server && !c.Insecure && c.CertFile == "":
		return fmt.Errorf("%w: a server needs --tls-cert and --tls-key", ErrConfig)
	case c.SubmitRate <= 0 || c.SubmitBurst < 1:
		return fmt.Errorf("%w: submit rate %g and burst %d must be positive", ErrConfig, c.SubmitRate, c.SubmitBurst)
	case c.CallTimeout <= 0:
		return fmt.Errorf("%w: call timeout %s must be positive", ErrConfig, c.CallTimeout)
	case c.MaxMessageBytes < 1<<20:
		return fmt.Errorf("%w: max message bytes %d below 1 MiB", ErrConfig, c.MaxMessageBytes)
	}
	return nil
}
