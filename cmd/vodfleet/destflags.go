package main

import (
	"flag"

	"github.com/vodfleet/vodfleet/agent"
)

// destinationFlags registers the agent's delivery settings: where the
// credentials of transfer tasks are read from (never the secrets
// themselves; S3 keys come from the AWS_* environment) and which
// destination addresses are allowed. The SFTP key and known_hosts are
// the agent's one SSH identity, shared with sources (sourceCredentialFlags
// registers them). It returns a function that applies the comma-separated
// CIDR list and the SFTP files after parsing.
func destinationFlags(fs *flag.FlagSet, cfg *agent.Config) func() {
	d := &cfg.Destinations
	fs.StringVar(&d.CredentialsFile, "dest-credentials", d.CredentialsFile,
		"netrc-style file of FTP and HTTP destination logins (machine HOST[:PORT] login USER password SECRET)")
	fs.BoolVar(&d.FTPExplicitTLS, "ftp-tls", d.FTPExplicitTLS, "FTP destinations use explicit TLS (AUTH TLS)")
	fs.StringVar(&d.FTPCAFile, "ftp-ca", d.FTPCAFile, "PEM CA bundle trusted for FTP over TLS")
	fs.StringVar(&d.FileRoot, "dest-file-root", d.FileRoot, "only directory file:// destinations may write under (empty: file destinations refused)")
	fs.BoolVar(&d.AllowPrivate, "allow-private-destinations", d.AllowPrivate,
		"let destinations be on loopback, private or link-local addresses (single-host setups)")
	cidrs := fs.String("allowed-destination-cidrs", "", "comma-separated non-public networks destinations may be on, e.g. 10.1.0.0/16")
	fs.IntVar(&d.Concurrency, "dest-concurrency", d.Concurrency, "files one transfer task sends at once (0: 4)")
	fs.IntVar(&d.Retries, "dest-retries", d.Retries, "retries of one file inside a transfer attempt before the task is retried (0: 4, negative: none)")
	return func() {
		d.AllowedCIDRs = splitList(*cidrs)
		d.SSHKeyFile, d.KnownHostsFile = cfg.SFTPKeyFile, cfg.SFTPKnownHostsFile
	}
}
