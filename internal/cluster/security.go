package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/security"
)

// PKI is a throwaway CA with one certificate per role, for processes of a
// test cluster (security.EnsureDevPKI in a temp dir).
type PKI struct {
	*security.DevPKI
}

// NewPKI creates a CA, role certificates and an admin token in a temp dir.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := security.EnsureDevPKI(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &PKI{p}
}

// Args are the flags a process of role r needs: its certificate, key and
// the CA, plus the token file for the roles with gRPC listeners. A nil PKI
// means plaintext: --insecure.
func (p *PKI) Args(r security.Role) []string {
	if p == nil {
		return []string{"--insecure"}
	}
	args := []string{"--tls-cert", p.CertFile(r), "--tls-key", p.KeyFile(r), "--tls-ca", p.CAFile}
	if r == security.RoleCoordinator || r == security.RoleStorage {
		args = append(args, "--token-file", p.TokenFile)
	}
	return args
}

// ClientArgs are the flags of a CLI command run as the admin with the
// admin token (the way operators connect), or --insecure.
func (p *PKI) ClientArgs(t testing.TB) []string {
	t.Helper()
	if p == nil {
		return []string{"--insecure"}
	}
	tok, err := p.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--tls-ca", p.CAFile, "--token", tok}
}

// Security is the test process's own client security: the admin
// certificate, or plaintext.
func (p *PKI) Security(t testing.TB) *security.Security {
	t.Helper()
	if p == nil {
		return security.MustInsecure(hclog.NewNullLogger())
	}
	cfg := p.Config(security.RoleAdmin)
	cfg.TokenFile = ""
	s, err := security.New(cfg, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
