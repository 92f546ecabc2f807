package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sftpConn is one SSH connection with its SFTP session.
type sftpConn struct {
	ssh    *ssh.Client
	client *sftp.Client
	host   string // host:port, for messages
}

// dialSFTP connects to u's host, checking its key against the REQUIRED
// known_hosts file and logging in with the key file. An unknown or
// changed host key fails with ErrHostKey; a refused login with ErrAuth.
func dialSFTP(ctx context.Context, u *url.URL, opts Options) (*sftpConn, error) {
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("%w: sftp urls need a user (sftp://USER@HOST/DIR)", ErrInvalidURL)
	}
	if opts.KnownHostsFile == "" {
		return nil, fmt.Errorf("%w: sftp needs a known_hosts file", ErrConfig)
	}
	if opts.SSHKeyFile == "" {
		return nil, fmt.Errorf("%w: sftp needs a key file", ErrConfig)
	}
	hostKeys, err := knownhosts.New(opts.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("%w: known_hosts: %w", ErrConfig, err)
	}
	pem, err := os.ReadFile(opts.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: ssh key file: %w", ErrConfig, err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		// The parse error does not quote the key.
		return nil, fmt.Errorf("%w: ssh key file %s: %w", ErrConfig, opts.SSHKeyFile, err)
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	var keyOK atomic.Bool
	var keyErr atomic.Value
	cfg := &ssh.ClientConfig{
		User: u.User.Username(),
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			if err := hostKeys(hostname, remote, key); err != nil {
				var ke *knownhosts.KeyError
				if errors.As(err, &ke) && len(ke.Want) > 0 {
					err = fmt.Errorf("%w: %s presented a %s key that differs from known_hosts", ErrHostKey, addr, key.Type())
				} else {
					err = fmt.Errorf("%w: %s is not in known_hosts", ErrHostKey, addr)
				}
				keyErr.Store(err)
				return err
			}
			keyOK.Store(true)
			return nil
		},
		HostKeyAlgorithms: knownAlgorithms(hostKeys, addr),
		Timeout:           DefaultDialTimeout,
	}
	conn, err := opts.Policy.Dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sftp %s: %w", addr, err)
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	} else {
		conn.SetDeadline(time.Now().Add(DefaultDialTimeout))
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		if ke, ok := keyErr.Load().(error); ok {
			return nil, ke
		}
		if keyOK.Load() {
			// The server was trusted and the handshake still failed:
			// it refused our key for this user.
			return nil, fmt.Errorf("%w: %s refused the key for user %s", ErrAuth, addr, u.User.Username())
		}
		return nil, fmt.Errorf("sftp %s: %w", addr, err)
	}
	conn.SetDeadline(time.Time{})
	sc := ssh.NewClient(c, chans, reqs)
	client, err := sftp.NewClient(sc, sftp.UseConcurrentWrites(true))
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("sftp %s: starting sftp subsystem: %w", addr, err)
	}
	return &sftpConn{ssh: sc, client: client, host: addr}, nil
}

// knownAlgorithms returns the host key algorithms known_hosts has keys of
// for addr, so the server is asked for a key we can check rather than
// one of another type that would look like a changed key. Nil (library
// default) when none are known: the handshake then fails as unknown.
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		tcp = &net.TCPAddr{IP: net.ParseIP(host), Port: p}
	}
	// Checking a key no server has makes the callback list the known ones.
	err = cb(addr, tcp, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		if seen[t] {
			continue
		}
		seen[t] = true
		if t == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		}
		algos = append(algos, t)
	}
	return algos
}

// probeKey is a public key matching nothing, used by knownAlgorithms.
type probeKey struct{}

func (probeKey) Type() string                        { return "probe" }
func (probeKey) Marshal() []byte                     { return []byte("vodfleet-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe") }

func (c *sftpConn) Close() error {
	c.client.Close()
	return c.ssh.Close()
}

// sftpDest pushes over one SSH connection (the SFTP client pipelines
// concurrent requests). Files are written under a temporary name and
// moved into place with the posix-rename extension, which replaces the
// target atomically.
type sftpDest struct {
	u    *url.URL
	dir  string
	conn *sftpConn
}

func newSFTPDest(u *url.URL, opts Options) (*sftpDest, error) {
	if u.Path == "" {
		return nil, fmt.Errorf("%w: sftp url needs a directory", ErrInvalidURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultDialTimeout)
	defer cancel()
	conn, err := dialSFTP(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	return &sftpDest{u: u, dir: path.Clean(u.Path), conn: conn}, nil
}

func (d *sftpDest) String() string { return redact(d.u) }
func (d *sftpDest) Close() error   { return d.conn.Close() }

func (d *sftpDest) Stat(ctx context.Context, rel string) (Info, error) {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return Info{}, err
	}
	st, err := d.conn.client.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%w: %s on %s", ErrNotFound, rel, d.conn.host)
	}
	if err != nil {
		return Info{}, fmt.Errorf("stat %s on %s: %w", rel, d.conn.host, err)
	}
	return Info{Size: st.Size()}, nil
}

func (d *sftpDest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, _ Meta, progress func(int64)) error {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return err
	}
	c := d.conn.client
	if err := c.MkdirAll(path.Dir(p)); err != nil {
		return fmt.Errorf("mkdir %s on %s: %w", path.Dir(rel), d.conn.host, err)
	}
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".tmp-vodfleet")
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("create %s on %s: %w", rel, d.conn.host, err)
	}
	r := &countingReader{r: io.NewSectionReader(body, 0, size), ctx: ctx, progress: progress, size: size}
	_, err = f.ReadFrom(r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.Remove(tmp)
		return fmt.Errorf("write %s on %s: %w", rel, d.conn.host, err)
	}
	if err := c.PosixRename(tmp, p); err != nil {
		c.Remove(tmp)
		return fmt.Errorf("rename %s on %s: %w", rel, d.conn.host, err)
	}
	return nil
}

// sftpSource downloads one file, resuming at an offset.
type sftpSource struct {
	u    *url.URL
	conn *sftpConn
}

func newSFTPSource(u *url.URL, opts Options) (*sftpSource, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultDialTimeout)
	defer cancel()
	conn, err := dialSFTP(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	return &sftpSource{u: u, conn: conn}, nil
}

func (s *sftpSource) String() string { return redact(s.u) }
func (s *sftpSource) Close() error   { return s.conn.Close() }

func (s *sftpSource) Stat(ctx context.Context) (Info, error) {
	st, err := s.conn.client.Stat(s.u.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%w: %s on %s", ErrNotFound, s.u.Path, s.conn.host)
	}
	if err != nil {
		return Info{}, fmt.Errorf("stat %s on %s: %w", s.u.Path, s.conn.host, err)
	}
	return Info{Size: st.Size(), Version: st.ModTime().UTC().Format(time.RFC3339Nano)}, nil
}

func (s *sftpSource) Open(ctx context.Context, offset int64, _ Info) (io.ReadCloser, int64, error) {
	f, err := s.conn.client.Open(s.u.Path)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s on %s: %w", s.u.Path, s.conn.host, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, offset, nil
}
