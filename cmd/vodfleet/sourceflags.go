package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/vodfleet/vodfleet/agent"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// sourceCredentialFlags registers where an agent reads the credentials of
// URL sources. Only file names are flags: secrets stay in those files and
// in the AWS environment (s3), never in job records or etcd.
func sourceCredentialFlags(fs *flag.FlagSet, cfg *agent.Config) {
	fs.StringVar(&cfg.SFTPKeyFile, "sftp-key", "", "private key file sftp:// sources and destinations log in with")
	fs.StringVar(&cfg.SFTPKnownHostsFile, "sftp-known-hosts", "", "known_hosts file sftp:// source and destination host keys must match (required for sftp)")
	fs.StringVar(&cfg.FTPCredentialsFile, "ftp-credentials", "", "netrc-style file (machine HOST[:PORT] login USER password SECRET) for ftp:// sources")
	fs.StringVar(&cfg.HTTPCredentialsFile, "http-credentials", "", "netrc-style file of basic-auth logins for http(s):// sources")
}

// urlSourceSchemes are the URL forms `vodfleet submit` passes to the
// coordinator as they are; anything else with "://" is refused locally.
var urlSourceSchemes = []string{"http", "https", "s3", "sftp", "ftp"}

// urlSourceOf returns the job source for a URL argument, ok false when
// arg is not a URL. A password in the URL is refused here, before it
// leaves the machine: agents read secrets from their own configuration.
func urlSourceOf(arg string) (src *v1.Source, ok bool, err error) {
	scheme, _, found := strings.Cut(arg, "://")
	if !found {
		return nil, false, nil
	}
	known := false
	for _, s := range urlSourceSchemes {
		known = known || strings.EqualFold(scheme, s)
	}
	if !known {
		return nil, true, fmt.Errorf("source: scheme %q is not supported (local files and %s URLs are)", scheme, strings.Join(urlSourceSchemes, ", "))
	}
	u, err := url.Parse(arg)
	if err != nil {
		return nil, true, fmt.Errorf("source: not a valid URL")
	}
	if _, has := u.User.Password(); has {
		return nil, true, fmt.Errorf("source: passwords are not allowed in URLs; agents read credentials from their own files (--sftp-key, --ftp-credentials, --http-credentials) or the AWS environment")
	}
	return &v1.Source{Location: &v1.Source_Url{Url: arg}, DisplayName: arg}, true, nil
}
