package security

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDevPKIReusedAndRenewed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	p, err := EnsureDevPKI(dir, []string{"10.0.0.7", "media.local"}, now)
	if err != nil {
		t.Fatal(err)
	}
	ca1, _ := os.ReadFile(p.CAFile)
	tok1, _ := p.AdminToken()
	for _, r := range ClusterRoles {
		c, err := tls.LoadX509KeyPair(p.CertFile(r), p.KeyFile(r))
		if err != nil {
			t.Fatal(err)
		}
		id, err := CertIdentity(c.Leaf)
		if err != nil || id.Role != r {
			t.Errorf("%s certificate carries %+v (%v)", r, id, err)
		}
		if err := c.Leaf.VerifyHostname("127.0.0.1"); err != nil {
			t.Errorf("%s: %v", r, err)
		}
		if err := c.Leaf.VerifyHostname("media.local"); err != nil {
			t.Errorf("%s: %v", r, err)
		}
		if err := c.Leaf.VerifyHostname("10.0.0.7"); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("ca key mode: %v %v", fi, err)
	}
	ts, err := LoadTokenFile(p.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := ts.Lookup(tok1); !ok || id.Role != RoleAdmin {
		t.Errorf("admin token not admitted as admin: %+v %v", id, ok)
	}

	// A restart reuses everything.
	p2, err := EnsureDevPKI(dir, nil, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ca2, _ := os.ReadFile(p2.CAFile)
	tok2, _ := p2.AdminToken()
	if !bytes.Equal(ca1, ca2) || tok1 != tok2 {
		t.Error("restart regenerated a valid dev CA or token")
	}
	// Close to expiry, or with a file missing, it is made anew.
	p3, err := EnsureDevPKI(dir, nil, now.Add(devValidity))
	if err != nil {
		t.Fatal(err)
	}
	ca3, _ := os.ReadFile(p3.CAFile)
	if bytes.Equal(ca1, ca3) {
		t.Error("expiring dev CA was not renewed")
	}
	if err := os.Remove(p3.KeyFile(RoleEdge)); err != nil {
		t.Fatal(err)
	}
	p4, err := EnsureDevPKI(dir, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(p4.CertFile(RoleEdge), p4.KeyFile(RoleEdge)); err != nil {
		t.Errorf("missing key not recreated: %v", err)
	}
}
