package main

import (
	"flag"
	"os"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"github.com/vodfleet/vodfleet/internal/security"
)

// secFlags are the transport security and credential flags every role and
// client command takes; they fill one security.Config.
type secFlags struct {
	cfg security.Config
}

// secFlagKind selects which credential flags a command gets.
type secFlagKind int

const (
	// secClient: CLI commands and agents (present a certificate or send a token).
	secClient secFlagKind = iota
	// secServer: roles with gRPC listeners (accept tokens).
	secServer
	// secTLSOnly: the edge, which only presents its certificate to an
	// HTTPS origin.
	secTLSOnly
)

func (s *secFlags) register(fs *flag.FlagSet, kind secFlagKind) {
	s.cfg = security.DefaultConfig()
	fs.StringVar(&s.cfg.CertFile, "tls-cert", os.Getenv("VODFLEET_TLS_CERT"), "certificate (PEM) presented to peers; its Subject OU is the role (env VODFLEET_TLS_CERT)")
	fs.StringVar(&s.cfg.KeyFile, "tls-key", os.Getenv("VODFLEET_TLS_KEY"), "private key of --tls-cert (env VODFLEET_TLS_KEY)")
	fs.StringVar(&s.cfg.CAFile, "tls-ca", os.Getenv("VODFLEET_TLS_CA"), "cluster CA (PEM) peers are verified against (env VODFLEET_TLS_CA)")
	fs.BoolVar(&s.cfg.Insecure, "insecure", os.Getenv("VODFLEET_INSECURE") == "1", "plaintext gRPC without TLS (env VODFLEET_INSECURE=1); never the default")
	switch kind {
	case secServer:
		fs.StringVar(&s.cfg.TokenFile, "token-file", os.Getenv("VODFLEET_TOKEN_FILE"), "API token hashes accepted, one 'sha256:HEX ROLE NAME' a line (env VODFLEET_TOKEN_FILE; see `vodfleet token new`)")
		fs.Float64Var(&s.cfg.SubmitRate, "submit-rate", s.cfg.SubmitRate, "SubmitJob calls per second per client")
		fs.IntVar(&s.cfg.SubmitBurst, "submit-burst", s.cfg.SubmitBurst, "SubmitJob burst per client")
	case secClient:
		fs.StringVar(&s.cfg.Token, "token", "", "API token sent as 'authorization: Bearer' (env VODFLEET_TOKEN)")
	}
}

// build loads the files. The token comes from the environment when the
// flag is empty, read here so it never shows as a flag default in -h.
func (s *secFlags) build(server bool, log hclog.Logger) (*security.Security, error) {
	if s.cfg.Token == "" {
		s.cfg.Token = os.Getenv("VODFLEET_TOKEN")
	}
	return security.New(s.cfg, server, log)
}

// dialer is the client commands' one way to dial: security from the flags.
func (s *secFlags) dial(addr string) (*grpc.ClientConn, error) {
	sec, err := s.build(false, hclog.NewNullLogger())
	if err != nil {
		return nil, err
	}
	return sec.Dial(addr)
}
