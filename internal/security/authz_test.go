package security

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// TestEveryRPCOverTLS calls every RPC of every service over real TLS on
// loopback: without credentials (Unauthenticated), with an unknown token
// (Unauthenticated), and as every role, by certificate and by token: a
// role the policy admits gets past authentication (to the Unimplemented
// handler), any other gets PermissionDenied.
func TestEveryRPCOverTLS(t *testing.T) {
	ts := startServer(t, false, true, nil)
	ctx := context.Background()
	anon := DefaultConfig()
	anon.CAFile = ts.pki.CAFile
	bogus := anon
	bogus.Token = "vf_not-a-real-token"

	type client struct {
		label string
		role  Role
		cfg   Config
	}
	var clients []client
	for _, r := range ClusterRoles {
		clients = append(clients, client{"certificate " + string(r), r, ts.withCert(r)})
	}
	for _, r := range tokenRoles {
		clients = append(clients, client{"token " + string(r), r, ts.withToken(r)})
	}
	anonCC, bogusCC := ts.dial(t, anon), ts.dial(t, bogus)
	ccs := make([]*grpcConn, len(clients))
	for i, c := range clients {
		ccs[i] = &grpcConn{ts.dial(t, c.cfg)}
	}
	for _, m := range generatedMethods(t) {
		if got := call(ctx, anonCC, m); got != codes.Unauthenticated {
			t.Errorf("%s without credentials: %s, want Unauthenticated", m.name, got)
		}
		if got := call(ctx, bogusCC, m); got != codes.Unauthenticated {
			t.Errorf("%s with an unknown token: %s, want Unauthenticated", m.name, got)
		}
		admitted, refused := 0, 0
		for i, c := range clients {
			got := call(ctx, ccs[i].ClientConn, m)
			want := codes.PermissionDenied
			if Allowed(m.name, c.role) {
				want, admitted = codes.Unimplemented, admitted+1
			} else {
				refused++
			}
			if got != want {
				t.Errorf("%s as %s: %s, want %s", m.name, c.label, got, want)
			}
		}
		if admitted == 0 || refused == 0 {
			t.Errorf("%s: %d identities admitted, %d refused; the test must see both", m.name, admitted, refused)
		}
	}
}

// TestForeignCARefused: a client certificate from another CA is refused
// in the handshake, and a client trusting another CA refuses the server.
func TestForeignCARefused(t *testing.T) {
	ts := startServer(t, false, true, nil)
	foreign, err := EnsureDevPKI(filepath.Join(t.TempDir(), "foreign"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := method{name: "/vodfleet.v1.JobService/ListJobs"}
	// Foreign admin certificate, but our CA as roots: the server rejects it.
	cfg := foreign.Config(RoleAdmin)
	cfg.TokenFile, cfg.CAFile = "", ts.pki.CAFile
	if got := call(context.Background(), ts.dial(t, cfg), m); got != codes.Unavailable {
		t.Errorf("foreign client certificate: %s, want Unavailable (handshake refused)", got)
	}
	// Even with a valid token, a foreign certificate does not get through.
	cfg.Token = ts.tokens[RoleAdmin]
	if got := call(context.Background(), ts.dial(t, cfg), m); got != codes.Unavailable {
		t.Errorf("foreign client certificate with a token: %s, want Unavailable", got)
	}
	// The client trusts only the foreign CA: our server is refused.
	cfg = ts.withToken(RoleAdmin)
	cfg.CAFile = foreign.CAFile
	if got := call(context.Background(), ts.dial(t, cfg), m); got != codes.Unavailable {
		t.Errorf("server from an untrusted CA: %s, want Unavailable", got)
	}
	// Control: the same call with our CA succeeds past auth.
	if got := call(context.Background(), ts.dial(t, ts.withToken(RoleAdmin)), m); got != codes.Unimplemented {
		t.Errorf("control call: %s, want Unimplemented", got)
	}
}

// TestPlaintextCannotReachTLSListener: an --insecure client gets nowhere.
func TestPlaintextCannotReachTLSListener(t *testing.T) {
	ts := startServer(t, false, true, nil)
	cfg := DefaultConfig()
	cfg.Insecure = true
	if got := call(context.Background(), ts.dial(t, cfg), method{name: "/vodfleet.v1.JobService/ListJobs"}); got != codes.Unavailable {
		t.Errorf("plaintext client to TLS listener: %s, want Unavailable", got)
	}
}

// TestInsecureModes: plaintext with a token file still authenticates
// (agent tokens); plaintext without one is open.
func TestInsecureModes(t *testing.T) {
	ctx := context.Background()
	connect := method{name: "/vodfleet.v1.AgentService/Connect", clientStreaming: true, serverStreaming: true}
	ts := startServer(t, true, true, nil)
	plain := DefaultConfig()
	plain.Insecure = true
	if got := call(ctx, ts.dial(t, plain), connect); got != codes.Unauthenticated {
		t.Errorf("insecure with token file, no token: %s, want Unauthenticated", got)
	}
	agentTok := plain
	agentTok.Token = ts.tokens[RoleAgent]
	if got := call(ctx, ts.dial(t, agentTok), connect); got != codes.Unimplemented {
		t.Errorf("insecure with an agent token: %s, want Unimplemented (past auth)", got)
	}
	readTok := plain
	readTok.Token = ts.tokens[RoleReadOnly]
	if got := call(ctx, ts.dial(t, readTok), connect); got != codes.PermissionDenied {
		t.Errorf("insecure with a readonly token on Connect: %s, want PermissionDenied", got)
	}

	open := startServer(t, true, false, nil)
	for _, m := range generatedMethods(t) {
		if got := call(ctx, open.dial(t, plain), m); got != codes.Unimplemented {
			t.Errorf("open insecure server, %s: %s, want Unimplemented", m.name, got)
		}
	}
}
