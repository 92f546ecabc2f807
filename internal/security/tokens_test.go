package security

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenFileRoundTrip(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if a == b || !strings.HasPrefix(a, "vf_") || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	file := "# comment\n\n" + TokenLine(a, RoleSubmitter, "ci") + "\n  " + TokenLine(b, RoleReadOnly, "grafana") + "  \n"
	if strings.Contains(file, a) || strings.Contains(file, b) {
		t.Fatal("token file line holds the token itself")
	}
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Len() != 2 {
		t.Fatalf("%d tokens", ts.Len())
	}
	if id, ok := ts.Lookup(a); !ok || id != (Identity{Role: RoleSubmitter, Name: "ci"}) {
		t.Errorf("lookup a: %+v %v", id, ok)
	}
	if id, ok := ts.Lookup(b); !ok || id.Role != RoleReadOnly || id.Name != "grafana" {
		t.Errorf("lookup b: %+v %v", id, ok)
	}
	for _, wrong := range []string{"", a + "x", strings.TrimPrefix(a, "vf_"), "sha256:" + strings.Fields(TokenLine(a, RoleAdmin, "x"))[0]} {
		if _, ok := ts.Lookup(wrong); ok {
			t.Errorf("lookup %q succeeded", wrong)
		}
	}
}

func TestTokenFileErrors(t *testing.T) {
	tok, _ := NewToken()
	good := TokenLine(tok, RoleAdmin, "ops")
	hash := strings.Fields(good)[0]
	other, _ := NewToken()
	cases := []struct {
		name, file, want string
	}{
		{"raw token instead of a hash", tok + " admin ops\n", "line 1: the first field must be sha256:"},
		{"short hash", "sha256:abcd admin ops\n", "line 1: the first field"},
		{"missing name", "# x\n" + hash + " admin\n", "line 2: want \"sha256:HEX ROLE NAME\", got 2 fields"},
		{"unknown role", hash + " root ops\n", "line 1: unknown role \"root\""},
		{"duplicate name", good + "\n" + TokenLine(other, RoleReadOnly, "ops") + "\n", "line 2: name \"ops\" used twice"},
		{"duplicate hash", good + "\n" + hash + " readonly other\n", "line 2: hash listed twice"},
	}
	for _, c := range cases {
		_, err := ParseTokens(strings.NewReader(c.file))
		if err == nil || !errors.Is(err, ErrTokenFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := LoadTokenFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrTokenFile) {
		t.Errorf("missing file: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	base := DefaultConfig()
	tlsCfg := base
	tlsCfg.CertFile, tlsCfg.KeyFile, tlsCfg.CAFile = "c", "k", "ca"
	caOnly := base
	caOnly.CAFile = "ca"
	insecure := base
	insecure.Insecure = true
	both := tlsCfg
	both.Insecure = true
	certNoKey := caOnly
	certNoKey.CertFile = "c"
	cases := []struct {
		name   string
		cfg    Config
		server bool
		want   error
	}{
		{"nothing (server)", base, true, ErrNoTransportSecurity},
		{"nothing (client)", base, false, ErrNoTransportSecurity},
		{"tls server", tlsCfg, true, nil},
		{"insecure server", insecure, true, nil},
		{"client with CA only", caOnly, false, nil},
		{"server with CA only", caOnly, true, ErrConfig},
		{"insecure and TLS", both, true, ErrConfig},
		{"cert without key", certNoKey, false, ErrConfig},
	}
	for _, c := range cases {
		err := c.cfg.Validate(c.server)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
