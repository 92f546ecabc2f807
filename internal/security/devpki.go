package security

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DevPKI is a throwaway CA and one certificate per cluster role in a
// directory, for `vodfleet dev` and the tests. Never for production: the
// CA key sits next to the certificates.
type DevPKI struct {
	// Dir holds ca.pem, ca-key.pem and ROLE.pem / ROLE-key.pem.
	Dir string
	// CAFile is the CA certificate clients and servers trust.
	CAFile string
	// TokenFile admits the admin token; AdminTokenFile holds that token
	// (the dev cluster prints it; a real cluster keeps only the hash).
	TokenFile, AdminTokenFile string
}

// devValidity is how long dev certificates live; they are renewed at the
// next start once less than devRenewBefore is left.
const (
	devValidity    = 90 * 24 * time.Hour
	devRenewBefore = 24 * time.Hour
)

// CertFile is role's certificate.
func (p *DevPKI) CertFile(r Role) string { return filepath.Join(p.Dir, string(r)+".pem") }

// KeyFile is role's private key.
func (p *DevPKI) KeyFile(r Role) string { return filepath.Join(p.Dir, string(r)+"-key.pem") }

// Config is a security config presenting role's certificate.
func (p *DevPKI) Config(r Role) Config {
	c := DefaultConfig()
	c.CertFile, c.KeyFile, c.CAFile, c.TokenFile = p.CertFile(r), p.KeyFile(r), p.CAFile, p.TokenFile
	return c
}

// AdminToken reads the admin token.
func (p *DevPKI) AdminToken() (string, error) {
	b, err := os.ReadFile(p.AdminTokenFile)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// EnsureDevPKI reuses the CA, certificates and admin token in dir when
// they are all there and valid past now+devRenewBefore, and creates them
// otherwise. Certificates name localhost, 127.0.0.1, ::1 and hosts.
func EnsureDevPKI(dir string, hosts []string, now time.Time) (*DevPKI, error) {
	p := &DevPKI{Dir: dir, CAFile: filepath.Join(dir, "ca.pem"),
		TokenFile: filepath.Join(dir, "tokens"), AdminTokenFile: filepath.Join(dir, "admin.token")}
	if p.valid(now) {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dev pki: %w", err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dev pki: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{"vodfleet dev"}, CommonName: "vodfleet dev CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(devValidity),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("dev pki: ca: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("dev pki: ca: %w", err)
	}
	if err := writePEM(p.CAFile, "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, "ca-key.pem"), caKey); err != nil {
		return nil, err
	}
	for _, r := range ClusterRoles {
		if err := issue(p, r, caCert, caKey, hosts, now); err != nil {
			return nil, err
		}
	}
	tok, err := NewToken()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.AdminTokenFile, []byte(tok+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("dev pki: %w", err)
	}
	lines := "# vodfleet dev tokens: sha256:HASH ROLE NAME\n" + TokenLine(tok, RoleAdmin, "dev-admin") + "\n"
	if err := os.WriteFile(p.TokenFile, []byte(lines), 0o600); err != nil {
		return nil, fmt.Errorf("dev pki: %w", err)
	}
	return p, nil
}

// issue writes role's certificate (server and client use) signed by the CA.
func issue(p *DevPKI, r Role, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("dev pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"vodfleet dev"}, OrganizationalUnit: []string{string(r)}, CommonName: "dev-" + string(r)},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(devValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("dev pki: %s: %w", r, err)
	}
	if err := writePEM(p.CertFile(r), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writeKey(p.KeyFile(r), key)
}

// valid reports whether every file is there and the certificates load,
// chain to the CA and outlive now+devRenewBefore.
func (p *DevPKI) valid(now time.Time) bool {
	ca, err := loadCA(p.CAFile)
	if err != nil {
		return false
	}
	if _, err := p.AdminToken(); err != nil {
		return false
	}
	if _, err := LoadTokenFile(p.TokenFile); err != nil {
		return false
	}
	for _, r := range ClusterRoles {
		c, err := tls.LoadX509KeyPair(p.CertFile(r), p.KeyFile(r))
		if err != nil || c.Leaf == nil {
			return false
		}
		_, err = c.Leaf.Verify(x509.VerifyOptions{Roots: ca, CurrentTime: now.Add(devRenewBefore),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return false
		}
	}
	return true
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("dev pki: %w", err)
	}
	return nil
}

func writeKey(path string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("dev pki: %w", errors.Join(err))
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}
