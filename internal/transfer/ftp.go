package transfer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/jlaffaye/ftp"
)

// ftpLogin is how to reach and log in to one FTP server.
type ftpLogin struct {
	addr       string // host:port
	user, pass string
	opts       Options
}

func newFTPLogin(u *url.URL, opts Options) (*ftpLogin, error) {
	port := u.Port()
	if port == "" {
		port = "21"
	}
	l := &ftpLogin{addr: net.JoinHostPort(u.Hostname(), port), user: "anonymous", pass: "anonymous@", opts: opts}
	user := ""
	if u.User != nil {
		user = u.User.Username()
		l.user = user
	}
	cred, ok, err := lookupCredential(opts.CredentialsFile, u.Host, u.Hostname(), user)
	if err != nil {
		return nil, err
	}
	if ok {
		if user == "" && cred.login != "" {
			l.user = cred.login
		}
		l.pass = cred.password
	}
	return l, nil
}

// dial opens a logged-in connection in passive mode (the client library
// never uses active mode), upgraded with AUTH TLS when configured. Every
// connection, control and data, goes through the policy dialer.
func (l *ftpLogin) dial(ctx context.Context) (*ftp.ServerConn, error) {
	// The dialer serves the control connection and every data
	// connection (which the library wraps in TLS itself only when it
	// dials them through a dialer, not a dial function). No context is
	// passed: the library would keep it for the later data connections.
	options := []ftp.DialOption{
		ftp.DialWithDialer(*l.opts.Policy.Dialer()),
		ftp.DialWithTimeout(DefaultDialTimeout),
	}
	if l.opts.FTPExplicitTLS {
		host, _, _ := net.SplitHostPort(l.addr)
		cfg := &tls.Config{
			ServerName:         host,
			InsecureSkipVerify: l.opts.FTPInsecureSkipVerify,
			MinVersion:         tls.VersionTLS12,
			// Servers commonly require the data connections to resume
			// the control connection's TLS session.
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
		}
		if l.opts.FTPCAFile != "" {
			pem, err := os.ReadFile(l.opts.FTPCAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: ftp ca file: %w", ErrConfig, err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: ftp ca file %s has no certificates", ErrConfig, l.opts.FTPCAFile)
			}
		}
		options = append(options, ftp.DialWithExplicitTLS(cfg))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := ftp.Dial(l.addr, options...)
	if err != nil {
		return nil, fmt.Errorf("ftp %s: %w", l.addr, err)
	}
	if err := c.Login(l.user, l.pass); err != nil {
		c.Quit()
		var te *textproto.Error
		if errors.As(err, &te) && (te.Code == ftp.StatusNotLoggedIn || te.Code == ftp.StatusUserOK) {
			return nil, fmt.Errorf("%w: %s refused the login for user %s", ErrAuth, l.addr, l.user)
		}
		return nil, fmt.Errorf("ftp %s: login: %w", l.addr, err)
	}
	return c, nil
}

// ftpCode returns the reply code of an FTP error, or 0.
func ftpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// ftpDest pushes over a small pool of FTP connections (one transfer per
// connection at a time, as the protocol requires). Files are stored
// under a temporary name and renamed (RNFR/RNTO) into place.
type ftpDest struct {
	u     *url.URL
	dir   string
	login *ftpLogin

	mu   sync.Mutex
	idle []*ftp.ServerConn
	dirs map[string]bool
}

func newFTPDest(u *url.URL, opts Options) (*ftpDest, error) {
	if u.Path == "" {
		return nil, fmt.Errorf("%w: ftp url needs a directory", ErrInvalidURL)
	}
	l, err := newFTPLogin(u, opts)
	if err != nil {
		return nil, err
	}
	d := &ftpDest{u: u, dir: path.Clean(u.Path), login: l, dirs: map[string]bool{}}
	// Connect once now so wrong credentials fail here, clearly.
	ctx, cancel := context.WithTimeout(context.Background(), DefaultDialTimeout)
	defer cancel()
	c, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	d.idle = append(d.idle, c)
	return d, nil
}

func (d *ftpDest) String() string { return redact(d.u) }

// Close logs out of every idle connection.
func (d *ftpDest) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.idle {
		c.Quit()
	}
	d.idle = nil
	return nil
}

// with runs fn on a pooled connection. A connection that saw an error
// other than a plain FTP reply is dropped, since its state is unknown.
func (d *ftpDest) with(ctx context.Context, fn func(c *ftp.ServerConn) error) error {
	d.mu.Lock()
	var c *ftp.ServerConn
	if n := len(d.idle); n > 0 {
		c, d.idle = d.idle[n-1], d.idle[:n-1]
	}
	d.mu.Unlock()
	if c == nil {
		var err error
		if c, err = d.login.dial(ctx); err != nil {
			return err
		}
	}
	err := fn(c)
	if err != nil && ftpCode(err) == 0 {
		c.Quit()
		return err
	}
	d.mu.Lock()
	d.idle = append(d.idle, c)
	d.mu.Unlock()
	return err
}

func (d *ftpDest) Stat(ctx context.Context, rel string) (Info, error) {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return Info{}, err
	}
	var info Info
	err = d.with(ctx, func(c *ftp.ServerConn) error {
		n, err := c.FileSize(p)
		if code := ftpCode(err); code == ftp.StatusFileUnavailable {
			return fmt.Errorf("%w: %s on %s (%w)", ErrNotFound, rel, d.login.addr, err)
		}
		if err != nil {
			return fmt.Errorf("size %s on %s: %w", rel, d.login.addr, err)
		}
		info.Size = n
		return nil
	})
	return info, err
}

func (d *ftpDest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, _ Meta, progress func(int64)) error {
	p, err := joinRel(d.dir, rel)
	if err != nil {
		return err
	}
	return d.with(ctx, func(c *ftp.ServerConn) error {
		if err := d.mkdirs(c, path.Dir(p)); err != nil {
			return err
		}
		tmp := path.Join(path.Dir(p), "."+path.Base(p)+".tmp-vodfleet")
		r := &countingReader{r: io.NewSectionReader(body, 0, size), ctx: ctx, progress: progress}
		if err := c.Stor(tmp, r); err != nil {
			return fmt.Errorf("store %s on %s: %w", rel, d.login.addr, err)
		}
		if err := c.Rename(tmp, p); err != nil {
			c.Delete(tmp)
			return fmt.Errorf("rename %s on %s: %w", rel, d.login.addr, err)
		}
		return nil
	})
}

// mkdirs creates dir and its parents below the destination root, once
// per Destination. MKD of an existing directory fails; that is ignored
// and a real problem shows up when the file is stored.
func (d *ftpDest) mkdirs(c *ftp.ServerConn, dir string) error {
	d.mu.Lock()
	done := d.dirs[dir]
	d.mu.Unlock()
	if done {
		return nil
	}
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	cur := ""
	for _, part := range parts {
		cur += "/" + part
		if err := c.MakeDir(cur); err != nil && ftpCode(err) == 0 {
			return fmt.Errorf("mkdir on %s: %w", d.login.addr, err)
		}
	}
	d.mu.Lock()
	d.dirs[dir] = true
	d.mu.Unlock()
	return nil
}

// ftpSource downloads one file, resuming with REST.
type ftpSource struct {
	u     *url.URL
	login *ftpLogin
	conn  *ftp.ServerConn
}

func newFTPSource(u *url.URL, opts Options) (*ftpSource, error) {
	l, err := newFTPLogin(u, opts)
	if err != nil {
		return nil, err
	}
	return &ftpSource{u: u, login: l}, nil
}

func (s *ftpSource) String() string { return redact(s.u) }

func (s *ftpSource) Close() error {
	if s.conn != nil {
		s.conn.Quit()
		s.conn = nil
	}
	return nil
}

// connect returns the source's connection, dialling it if needed.
func (s *ftpSource) connect(ctx context.Context) (*ftp.ServerConn, error) {
	if s.conn == nil {
		c, err := s.login.dial(ctx)
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	return s.conn, nil
}

func (s *ftpSource) Stat(ctx context.Context) (Info, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return Info{}, err
	}
	n, err := c.FileSize(s.u.Path)
	if ftpCode(err) == ftp.StatusFileUnavailable {
		return Info{}, fmt.Errorf("%w: %s on %s", ErrNotFound, s.u.Path, s.login.addr)
	}
	if err != nil {
		s.Close()
		return Info{}, fmt.Errorf("size %s on %s: %w", s.u.Path, s.login.addr, err)
	}
	return Info{Size: n}, nil
}

func (s *ftpSource) Open(ctx context.Context, offset int64, _ Info) (io.ReadCloser, int64, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.RetrFrom(s.u.Path, uint64(offset))
	if err != nil {
		s.Close()
		return nil, 0, fmt.Errorf("retr %s on %s: %w", s.u.Path, s.login.addr, err)
	}
	return &ftpBody{resp: resp, src: s}, offset, nil
}

// ftpBody closes the data connection and, if the transfer did not end
// cleanly, the control connection too (its state is unknown).
type ftpBody struct {
	resp *ftp.Response
	src  *ftpSource
}

func (b *ftpBody) Read(p []byte) (int, error) { return b.resp.Read(p) }

func (b *ftpBody) Close() error {
	if err := b.resp.Close(); err != nil {
		b.src.Close()
		return err
	}
	return nil
}
