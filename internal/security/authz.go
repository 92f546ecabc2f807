package security

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Sentinel errors of authentication; the interceptors map them to gRPC
// codes in one place (toStatus).
var (
	ErrUnauthenticated = errors.New("missing or invalid credentials")
	ErrPermission      = errors.New("role may not call this method")
	ErrRateLimited     = errors.New("too many submits")
)

// identityKey carries the caller's Identity in the handler's context.
type identityKey struct{}

// FromContext returns the authenticated caller of a handler, when any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Authorizer decides, per call, who is calling and whether they may.
type Authorizer struct {
	tokens *TokenStore
	// open turns authentication off (insecure without a token file).
	open    bool
	submits *RateLimiter
	log     hclog.Logger
}

// NewAuthorizer checks calls against tokens and client certificates. With
// open, every call is admitted (only rate limits apply).
func NewAuthorizer(tokens *TokenStore, open bool, submits *RateLimiter, log hclog.Logger) *Authorizer {
	return &Authorizer{tokens: tokens, open: open, submits: submits, log: log.Named("auth")}
}

// authorize returns the context the handler runs with, or an error.
func (a *Authorizer) authorize(ctx context.Context, method string) (context.Context, error) {
	rule, known := Policy[method]
	id, err := a.identify(ctx)
	switch {
	case known && rule.Public:
	case a.open:
		if err != nil {
			id = Identity{Name: peerAddr(ctx)}
		}
	case err != nil:
		a.log.Debug("call refused", "method", method, "peer", peerAddr(ctx), "error", err)
		return nil, err
	case !Allowed(method, id.Role):
		a.log.Debug("call refused", "method", method, "role", id.Role, "name", id.Name)
		return nil, ErrPermission
	}
	if method == v1.JobService_SubmitJob_FullMethodName && a.submits != nil {
		key := id.Name
		if key == "" {
			key = peerAddr(ctx)
		}
		if !a.submits.Allow(key) {
			a.log.Debug("submit rate limited", "name", key)
			return nil, ErrRateLimited
		}
	}
	a.log.Trace("call admitted", "method", method, "role", id.Role, "name", id.Name)
	return context.WithValue(ctx, identityKey{}, id), nil
}

// identify finds the caller: a bearer token, else a verified client
// certificate. A token that is present but unknown is an error even when
// a certificate would do, so a typo is noticed.
func (a *Authorizer) identify(ctx context.Context) (Identity, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if vals := md.Get("authorization"); len(vals) > 0 {
			tok, ok := strings.CutPrefix(vals[0], "Bearer ")
			if !ok {
				return Identity{}, ErrUnauthenticated
			}
			id, ok := a.tokens.Lookup(strings.TrimSpace(tok))
			if !ok {
				return Identity{}, ErrUnauthenticated
			}
			return id, nil
		}
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{}, ErrUnauthenticated
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return Identity{}, ErrUnauthenticated
	}
	id, err := CertIdentity(ti.State.VerifiedChains[0][0])
	if err != nil {
		return Identity{}, errors.Join(ErrUnauthenticated, err)
	}
	return id, nil
}

// peerAddr is the caller's IP (the rate-limit key of anonymous callers).
func peerAddr(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	if h, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return h
	}
	return p.Addr.String()
}

// toStatus maps the sentinel errors to gRPC status codes.
func toStatus(err error) error {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, ErrUnauthenticated.Error())
	case errors.Is(err, ErrPermission):
		return status.Error(codes.PermissionDenied, ErrPermission.Error())
	case errors.Is(err, ErrRateLimited):
		return status.Error(codes.ResourceExhausted, ErrRateLimited.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// Unary is the unary server interceptor.
func (a *Authorizer) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := a.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, toStatus(err)
	}
	return h(ctx, req)
}

// Stream is the stream server interceptor.
func (a *Authorizer) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := a.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return toStatus(err)
	}
	return h(srv, &identityStream{ServerStream: ss, ctx: ctx})
}

// identityStream hands the handler the context carrying the identity.
type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
