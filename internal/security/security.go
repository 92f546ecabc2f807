package security

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// Keepalive: servers ping a client idle for keepaliveTime and drop it when
// no answer comes within keepaliveTimeout, so a stalled or vanished agent
// loses its session without waiting for TCP; clients pinging more often
// than keepaliveMinTime are disconnected (enforcement policy).
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
	keepaliveMinTime = 5 * time.Second
)

// Security is one process's loaded credentials and policy. Build it once
// with New and take server options, dial options and TLS configs from it.
type Security struct {
	cfg    Config
	cert   *tls.Certificate
	ca     *x509.CertPool
	tokens *TokenStore
	auth   *Authorizer
	log    hclog.Logger
}

// New loads cfg's files. server selects the stricter validation of a
// process with listeners (it needs its own certificate).
func New(cfg Config, server bool, log hclog.Logger) (*Security, error) {
	if err := cfg.Validate(server); err != nil {
		return nil, err
	}
	s := &Security{cfg: cfg, log: log.Named("security")}
	if cfg.CertFile != "" {
		c, err := loadPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		s.cert = &c
	}
	if cfg.CAFile != "" {
		ca, err := loadCA(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		s.ca = ca
	}
	if cfg.TokenFile != "" {
		ts, err := LoadTokenFile(cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		s.tokens = ts
	}
	open := s.Open()
	s.auth = NewAuthorizer(s.tokens, open, NewRateLimiter(cfg.SubmitRate, cfg.SubmitBurst, nil), log)
	if server && cfg.Insecure {
		if open {
			s.log.Warn("plaintext gRPC without authentication (--insecure and no --token-file): anyone who can connect may call every method")
		} else {
			s.log.Warn("plaintext gRPC (--insecure): tokens cross the network in clear")
		}
	}
	return s, nil
}

// MustInsecure is a Security for tests and tools that run on plaintext
// loopback without authentication, said explicitly at the call site.
func MustInsecure(log hclog.Logger) *Security {
	cfg := DefaultConfig()
	cfg.Insecure = true
	s, err := New(cfg, false, log)
	if err != nil {
		panic(err)
	}
	return s
}

// Insecure reports whether TLS is off.
func (s *Security) Insecure() bool { return s.cfg.Insecure }

// Open reports whether authentication is off: plaintext (Insecure) and no
// token file, a local sandbox. Every listener that authenticates (gRPC,
// the web dashboard) follows the same rule.
func (s *Security) Open() bool { return s.cfg.Insecure && s.cfg.TokenFile == "" }

// Tokens is the token file's store (nil without --token-file), for the
// HTTP listeners that accept the same API tokens as gRPC.
func (s *Security) Tokens() *TokenStore { return s.tokens }

// Config returns the settings s was built from.
func (s *Security) Config() Config { return s.cfg }

// ServerOptions are the options of every gRPC server: credentials, the
// auth and rate-limit interceptors, message size and keepalive limits.
func (s *Security) ServerOptions() []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(s.cfg.MaxMessageBytes), grpc.MaxSendMsgSize(s.cfg.MaxMessageBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(s.auth.Unary),
		grpc.ChainStreamInterceptor(s.auth.Stream),
	}
	if !s.cfg.Insecure && s.cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS(*s.cert, s.ca))))
	}
	return opts
}

// NewServer is a gRPC server with ServerOptions.
func (s *Security) NewServer() *grpc.Server { return grpc.NewServer(s.ServerOptions()...) }

// DialOptions are the options of every gRPC client connection:
// credentials (TLS with our certificate, or plaintext), the bearer token,
// message size limits and a deadline on unary calls made without one.
func (s *Security) DialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(s.cfg.MaxMessageBytes), grpc.MaxCallSendMsgSize(s.cfg.MaxMessageBytes)),
		grpc.WithChainUnaryInterceptor(deadlineInterceptor(s.cfg.CallTimeout)),
	}
	if s.cfg.Insecure {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS(s.cert, s.ca))))
	}
	if s.cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: s.cfg.Token, secure: !s.cfg.Insecure}))
	}
	return opts
}

// Dial opens a client connection to addr with DialOptions plus extra.
func (s *Security) Dial(addr string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	cc, err := grpc.NewClient(addr, append(s.DialOptions(), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return cc, nil
}

// OriginServerTLS is the TLS config of the storage HTTP origin: our
// certificate, and a client certificate from the CA with the edge, admin,
// coordinator or agent role required. Nil when s is insecure.
func (s *Security) OriginServerTLS() *tls.Config {
	if s.cfg.Insecure || s.cert == nil {
		return nil
	}
	c := serverTLS(*s.cert, s.ca)
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.VerifyConnection = requireRoles(RoleEdge, RoleAdmin, RoleCoordinator, RoleAgent)
	return c
}

// ClientTLS is the TLS config for HTTPS calls (the edge to the origin):
// the CA as roots and our certificate. Nil when s is insecure.
func (s *Security) ClientTLS() *tls.Config {
	if s.cfg.Insecure {
		return nil
	}
	return clientTLS(s.cert, s.ca)
}

// bearer sends the API token as "authorization: Bearer TOKEN".
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// deadlineInterceptor gives unary calls made without a deadline one of d.
func deadlineInterceptor(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
