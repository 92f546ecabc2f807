package security

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

// TestTokensNeverLogged drives admitted, refused and rate-limited calls
// with tokens through a server logging at trace level, and checks that
// the log names the callers but never holds a token.
func TestTokensNeverLogged(t *testing.T) {
	ts := startServer(t, false, true, func(c *Config) { c.SubmitRate, c.SubmitBurst = 0.0001, 1 })
	ctx := context.Background()
	submit := method{name: "/vodfleet.v1.JobService/SubmitJob"}
	connect := method{name: "/vodfleet.v1.AgentService/Connect", clientStreaming: true, serverStreaming: true}
	sub := ts.dial(t, ts.withToken(RoleSubmitter))
	calls := []struct {
		cc   *grpcConn
		m    method
		want codes.Code
	}{
		{&grpcConn{sub}, submit, codes.Unimplemented},
		{&grpcConn{sub}, submit, codes.ResourceExhausted},
		{&grpcConn{sub}, connect, codes.PermissionDenied},
		{&grpcConn{ts.dial(t, ts.withToken(RoleAgent))}, connect, codes.Unimplemented},
	}
	bogus := ts.withToken(RoleAdmin)
	bogus.Token = "vf_bogus-token-that-must-not-be-logged"
	calls = append(calls, struct {
		cc   *grpcConn
		m    method
		want codes.Code
	}{&grpcConn{ts.dial(t, bogus)}, submit, codes.Unauthenticated})
	for i, c := range calls {
		if got := call(ctx, c.cc.ClientConn, c.m); got != c.want {
			t.Fatalf("call %d (%s): %s, want %s", i, c.m.name, got, c.want)
		}
	}
	logs := ts.logs.String()
	for _, want := range []string{"call admitted", "call refused", "submit rate limited", "test-submitter", "test-agent"} {
		if !strings.Contains(logs, want) {
			t.Errorf("trace log lacks %q (the test must see the auth logs):\n%s", want, logs)
		}
	}
	secrets := []string{bogus.Token}
	for _, tok := range ts.tokens {
		secrets = append(secrets, tok, strings.TrimPrefix(tok, "vf_"))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log holds a token:\n%s", logs)
		}
	}
}
