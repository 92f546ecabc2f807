package transfer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pureFTPServer runs pure-ftpd on a loopback port with one virtual user
// (from a puredb file, so no system account is created), chrooted to
// home, passive ports only, and a transfer log in CLF form recording
// each completed upload and download with its byte count.
type pureFTPServer struct {
	addr, home, xferLog string
}

const ftpUser, ftpSecret = "pusher", "right-ftp-secret"

func startPureFTPd(t *testing.T, extra ...string) *pureFTPServer {
	bin := needBinary(t, "pure-ftpd")
	pw := needBinary(t, "pure-pw")
	openssl := needBinary(t, "openssl")
	if os.Geteuid() != 0 {
		t.Fatal("pure-ftpd needs root to switch to its virtual user: run the tests as root (make test does on CI)")
	}
	dir := t.TempDir()
	s := &pureFTPServer{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), home: filepath.Join(dir, "home"), xferLog: filepath.Join(dir, "xfer.log")}
	if err := os.MkdirAll(s.home, 0o755); err != nil {
		t.Fatal(err)
	}
	// The virtual user maps to nobody, which must own its home.
	const nobody = 65534
	if err := os.Chown(s.home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	// pure-pw would hash with argon2, which takes seconds per login on a
	// loaded machine; a SHA-512 crypt hash (also accepted) is instant.
	hash, err := exec.Command(openssl, "passwd", "-6", ftpSecret).Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	passwd := filepath.Join(dir, "pureftpd.passwd")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", ftpUser, strings.TrimSpace(string(hash)), nobody, nobody, s.home)
	if err := os.WriteFile(passwd, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb := filepath.Join(dir, "pureftpd.pdb")
	if out, err := exec.Command(pw, "mkdb", pdb, "-f", passwd).CombinedOutput(); err != nil {
		t.Fatalf("pure-pw mkdb: %v\n%s", err, out)
	}
	lo := 30000 + freePort(t)%20000
	host, port := splitAddr(t, s.addr)
	args := append([]string{
		"-S", host + "," + port,
		"-l", "puredb:" + pdb,
		"-E",      // no anonymous logins
		"-A",      // chroot everyone
		"-H",      // no DNS lookups
		"-u", "1", // virtual users map to uid 65534
		"-p", fmt.Sprintf("%d:%d", lo, lo+40),
		"-O", "clf:" + s.xferLog,
	}, extra...)
	startServer(t, exec.Command(bin, args...), filepath.Join(dir, "pure-ftpd.log"), s.addr)
	return s
}

// logLines returns the transfer log's (method, path, bytes) triples.
func (s *pureFTPServer) logLines(t *testing.T) [][3]string {
	b, err := os.ReadFile(s.xferLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][3]string
	for _, l := range strings.Split(string(b), "\n") {
		// host - user [date] "PUT /path" 200 bytes
		q := strings.Split(l, `"`)
		if len(q) < 3 {
			continue
		}
		req := strings.Fields(q[1])
		tail := strings.Fields(q[2])
		if len(req) == 2 && len(tail) == 2 {
			out = append(out, [3]string{req[0], req[1], tail[1]})
		}
	}
	return out
}

func TestFTPDestinationAndSource(t *testing.T) {
	s := startPureFTPd(t)
	opts := loopbackOpts()
	opts.CredentialsFile = writeCredentials(t, "machine 127.0.0.1 login "+ftpUser+" password "+ftpSecret+"\n")
	runScenario(t, protoServer{
		destURL: "ftp://" + ftpUser + "@" + s.addr + "/pkg",
		root:    filepath.Join(s.home, "pkg"),
		opts:    opts,
		uploads: func(t *testing.T) []string {
			var out []string
			for _, f := range s.logLines(t) {
				if f[0] == "PUT" {
					// Uploads go to ".NAME.tmp-vodfleet", renamed at once.
					dir, base := path.Split(strings.TrimPrefix(f[1], s.home+"/pkg/"))
					base = strings.TrimSuffix(strings.TrimPrefix(base, "."), ".tmp-vodfleet")
					out = append(out, dir+base)
				}
			}
			return out
		},
		srcURL: func(rel string) string { return "ftp://" + ftpUser + "@" + s.addr + "/pkg/" + rel },
		resumed: func(t *testing.T, rel string) (int64, int64) {
			sent := int64(-1)
			for _, f := range s.logLines(t) {
				if f[0] == "GET" && f[1] == s.home+"/pkg/"+rel {
					sent, _ = strconv.ParseInt(f[2], 10, 64)
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
	s := startPureFTPd(t, "-Y", "2", "-2", bundle)
	pkg := makePackage(t)
	dest := "ftp://" + ftpUser + "@" + s.addr + "/tls"
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
	checkTree(t, pkg, filepath.Join(s.home, "tls"))

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
