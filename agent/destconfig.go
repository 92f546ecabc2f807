package agent

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/transfer"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// DestinationConfig is how this agent's transfer tasks reach destinations.
// It names where secrets are read from, never the secrets: jobs carry only
// URLs, so credentials stay on the agents (S3 keys come from the standard
// AWS environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
// AWS_ENDPOINT_URL).
type DestinationConfig struct {
	// SSHKeyFile is the private key SFTP destinations log in with.
	SSHKeyFile string
	// KnownHostsFile holds the SFTP servers' host keys; required for sftp.
	KnownHostsFile string
	// CredentialsFile is a netrc-style file of FTP and HTTP logins
	// ("machine HOST[:PORT] login USER password SECRET").
	CredentialsFile string
	// FTPExplicitTLS makes FTP destinations use AUTH TLS.
	FTPExplicitTLS bool
	// FTPCAFile is a PEM bundle trusted for FTP over TLS.
	FTPCAFile string
	// FileRoot is the only local directory file:// destinations may write
	// under; empty refuses file:// destinations, so a job cannot make an
	// agent write anywhere on its own disk.
	FileRoot string
	// AllowPrivate lets destinations be on loopback and private addresses
	// (single-host development and tests); AllowedCIDRs opens only some
	// networks, e.g. an internal SFTP server's.
	AllowPrivate bool
	AllowedCIDRs []string
	// Concurrency is how many files one transfer task sends at once; 0
	// means transfer.DefaultConcurrency.
	Concurrency int
	// Retries is how often one file is retried inside an attempt before
	// the attempt fails and the coordinator retries the task (with its
	// backoff, possibly on another agent): 0 means transfer.DefaultRetries,
	// negative none.
	Retries int
}

// Validate reports unusable settings.
func (d DestinationConfig) Validate() error {
	var errs []error
	if d.FileRoot != "" && !filepath.IsAbs(d.FileRoot) {
		errs = append(errs, fmt.Errorf("destination file root %q must be absolute", d.FileRoot))
	}
	if d.Concurrency < 0 || d.Concurrency > 64 {
		errs = append(errs, fmt.Errorf("destination concurrency %d outside 0..64", d.Concurrency))
	}
	if err := d.options(nil).Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// options are the transfer options of one push.
func (d DestinationConfig) options(log hclog.Logger) transfer.Options {
	return transfer.Options{
		Policy: urlpolicy.Policy{AllowPrivate: d.AllowPrivate, AllowedCIDRs: d.AllowedCIDRs,
			Schemes: []string{"http", "https", "s3", "sftp", "ftp"}},
		CredentialsFile: d.CredentialsFile,
		SSHKeyFile:      d.SSHKeyFile,
		KnownHostsFile:  d.KnownHostsFile,
		FTPExplicitTLS:  d.FTPExplicitTLS,
		FTPCAFile:       d.FTPCAFile,
		Concurrency:     d.Concurrency,
		Retries:         d.Retries,
		Logger:          log,
	}
}
