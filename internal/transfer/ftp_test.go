package transfer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/transfer/transfertest"
)

const ftpUser, ftpSecret = transfertest.FTPUser, transfertest.FTPSecret

func TestFTPDestinationAndSource(t *testing.T) {
	s := transfertest.StartPureFTPd(t)
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password "+ftpSecret+"\n")
	runScenario(t, protoServer{
		destURL: "ftp://" + ftpUser + "@" + s.Addr + "/pkg",
		root:    filepath.Join(s.Home, "pkg"),
		opts:    opts,
		uploads: func(t *testing.T) []string {
			var out []string
			for _, f := range s.Transfers(t) {
				if f.Method == "PUT" {
					// Uploads go to ".NAME.tmp-vodfleet", renamed at once.
					dir, base := path.Split(strings.TrimPrefix(f.Path, s.Home+"/pkg/"))
					base = strings.TrimSuffix(strings.TrimPrefix(base, "."), ".tmp-vodfleet")
					out = append(out, dir+base)
				}
			}
			return out
		},
		srcURL: func(rel string) string { return "ftp://" + ftpUser + "@" + s.Addr + "/pkg/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			sent := int64(-1)
			for _, f := range s.Transfers(t) {
				if f.Method == "GET" && f.Path == s.Home+"/pkg/"+rel {
					sent = f.Bytes
				}
			}
			return sent, -1 // the log has bytes, not the REST offset
		},
		badOpts: func(t *testing.T) (Options, string) {
			o := loopbackOpts()
			o.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password wrong-ftp-secret\n")
			return o, "wrong-ftp-secret"
		},
	})
}

// writeCert writes a self-signed certificate for 127.0.0.1 to certPath
// and, with its key appended, to bundlePath (pure-ftpd's format).
func writeCert(t *testing.T, certPath, bundlePath string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vodfleet test ftp"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(certPath, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundlePath, append(keyPEM, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFTPExplicitTLS pushes to a server that refuses cleartext logins
// (-Y 2), so the push succeeding proves AUTH TLS was used, and checks
// that the certificate is verified against the configured CA.
func TestFTPExplicitTLS(t *testing.T) {
	dir := t.TempDir()
	ca, bundle := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem")
	writeCert(t, ca, bundle)
	s := transfertest.StartPureFTPd(t, "-Y", "2", "-2", bundle)
	pkg := makePackage(t)
	dest := "ftp://" + ftpUser + "@" + s.Addr + "/tls"
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password "+ftpSecret+"\n")
	opts.FTPExplicitTLS = true
	opts.FTPCAFile = ca

	d, err := ParseDestination(dest, opts)
	if err != nil {
		t.Fatalf("ParseDestination over TLS: %v", err)
	}
	defer d.Close()
	if _, err := Push(context.Background(), pkg.dir, d, nil, opts); err != nil {
		t.Fatalf("Push over TLS: %v", err)
	}
	checkTree(t, pkg, filepath.Join(s.Home, "tls"))

	plain := opts
	plain.FTPExplicitTLS = false
	if d, err := ParseDestination(dest, plain); err == nil {
		d.Close()
		t.Fatal("a cleartext login to a TLS-only server succeeded")
	}
	untrusted := opts
	untrusted.FTPCAFile = ""
	if d, err := ParseDestination(dest, untrusted); err == nil {
		d.Close()
		t.Fatal("a self-signed certificate was accepted without the CA file")
	}
}
