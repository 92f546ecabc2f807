package security

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrTLSFiles marks unreadable or invalid certificate, key or CA files.
var ErrTLSFiles = errors.New("tls files")

// loadCA reads a PEM bundle into a pool.
func loadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLSFiles, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrTLSFiles, path)
	}
	return pool, nil
}

// loadPair reads a certificate and its key.
func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %s / %s: %w", ErrTLSFiles, certFile, keyFile, err)
	}
	return c, nil
}

// serverTLS is the TLS config of gRPC listeners: our certificate, and
// client certificates verified against the CA when given (clients that
// authenticate with a token present none).
func serverTLS(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    ca,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
}

// clientTLS verifies servers against the CA and presents our certificate
// when we have one.
func clientTLS(cert *tls.Certificate, ca *x509.CertPool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ca}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// CertIdentity is the identity a verified certificate carries: the role
// in its first Subject OU, the name in its CN.
func CertIdentity(c *x509.Certificate) (Identity, error) {
	if len(c.Subject.OrganizationalUnit) == 0 {
		return Identity{}, fmt.Errorf("%w: certificate %q has no OU naming its role", ErrUnknownRole, c.Subject.CommonName)
	}
	r, err := ParseRole(c.Subject.OrganizationalUnit[0])
	if err != nil {
		return Identity{}, err
	}
	name := c.Subject.CommonName
	if name == "" {
		name = string(r)
	}
	return Identity{Role: r, Name: name}, nil
}

// requireRoles returns a VerifyConnection hook for listeners that demand a
// client certificate (the storage HTTP origin): the verified peer must
// carry one of roles.
func requireRoles(roles ...Role) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
			return fmt.Errorf("%w: no verified client certificate", ErrTLSFiles)
		}
		id, err := CertIdentity(cs.VerifiedChains[0][0])
		if err != nil {
			return err
		}
		for _, r := range roles {
			if id.Role == r {
				return nil
			}
		}
		return fmt.Errorf("%w: role %s may not read the origin", ErrUnknownRole, id.Role)
	}
}
