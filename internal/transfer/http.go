package transfer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// httpDest pushes to a WebDAV-style HTTP server: PUT for files (the
// server writes them atomically, as nginx's dav module does through a
// temporary file), MKCOL for missing directories, HEAD for Stat.
// Content-Type and Cache-Control are sent with each PUT.
type httpDest struct {
	base   *url.URL // directory URL, path without trailing slash
	client *http.Client
	cred   *credential
	dirs   sync.Map // directory path -> struct{}: MKCOL already done
}

// httpClient returns a client that connects only through the policy's
// dialer and does not follow redirects (a redirected PUT would resend the
// body and credentials somewhere unchecked).
func httpClient(opts Options) *http.Client {
	return &http.Client{
		Transport: opts.Policy.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func httpCredential(u *url.URL, opts Options) (*credential, error) {
	c, ok, err := lookupCredential(opts.CredentialsFile, u.Host, u.Hostname(), "")
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

func newHTTPDest(u *url.URL, opts Options) (*httpDest, error) {
	if u.User != nil {
		return nil, fmt.Errorf("%w: http urls take no user; use the credentials file", ErrInvalidURL)
	}
	cred, err := httpCredential(u, opts)
	if err != nil {
		return nil, err
	}
	base := *u
	base.Path = strings.TrimSuffix(u.Path, "/")
	base.RawPath = ""
	return &httpDest{base: &base, client: httpClient(opts), cred: cred}, nil
}

func (d *httpDest) String() string { return redact(d.base) }

// Close drops idle connections.
func (d *httpDest) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// urlFor returns the URL of rel below the base directory.
func (d *httpDest) urlFor(rel string, dir bool) (string, error) {
	p, err := joinRel(d.base.Path, rel)
	if err != nil {
		return "", err
	}
	u := *d.base
	u.Path = p
	if dir {
		u.Path += "/"
	}
	return u.String(), nil
}

func (d *httpDest) do(req *http.Request) (*http.Response, error) {
	if d.cred != nil {
		req.SetBasicAuth(d.cred.login, d.cred.password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, d.base.Host, stripURLError(err))
	}
	return resp, nil
}

func (d *httpDest) Stat(ctx context.Context, rel string) (Info, error) {
	target, err := d.urlFor(rel, false)
	if err != nil {
		return Info{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, target, nil)
	if err != nil {
		return Info{}, err
	}
	resp, err := d.do(req)
	if err != nil {
		return Info{}, err
	}
	resp.Body.Close()
	if err := httpStatusError(resp, d.base.Host, rel); err != nil {
		return Info{}, err
	}
	return Info{Size: resp.ContentLength, Version: httpVersion(resp)}, nil
}

func (d *httpDest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, meta Meta, progress func(int64)) error {
	if err := d.mkdirs(ctx, rel); err != nil {
		return err
	}
	target, err := d.urlFor(rel, false)
	if err != nil {
		return err
	}
	r := &countingReader{r: io.NewSectionReader(body, 0, size), ctx: ctx, progress: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, io.NopCloser(r))
	if err != nil {
		return err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	if meta.ContentType != "" {
		req.Header.Set("Content-Type", meta.ContentType)
	}
	if meta.CacheControl != "" {
		req.Header.Set("Cache-Control", meta.CacheControl)
	}
	resp, err := d.do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return httpStatusError(resp, d.base.Host, rel)
}

// mkdirs sends MKCOL for each parent directory of rel not yet known to
// exist. 405 (Method Not Allowed) is how WebDAV says it exists already.
func (d *httpDest) mkdirs(ctx context.Context, rel string) error {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	var dirs []string
	if d.base.Path != "" { // the server's root always exists
		dirs = append(dirs, "")
	}
	for i := 1; i < len(parts); i++ {
		dirs = append(dirs, strings.Join(parts[:i], "/"))
	}
	for _, dir := range dirs {
		if _, done := d.dirs.Load(dir); done {
			continue
		}
		target := d.base.String() + "/"
		if dir != "" {
			var err error
			if target, err = d.urlFor(dir, true); err != nil {
				return err
			}
		}
		req, err := http.NewRequestWithContext(ctx, "MKCOL", target, nil)
		if err != nil {
			return err
		}
		resp, err := d.do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			if err := httpStatusError(resp, d.base.Host, dir+"/"); err != nil {
				return fmt.Errorf("mkcol: %w", err)
			}
		}
		d.dirs.Store(dir, struct{}{})
	}
	return nil
}

// httpStatusError maps a response status to nil or a sentinel error. The
// message names the host and path, never credentials.
func httpStatusError(resp *http.Response, host, rel string) error {
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %s refused the credentials (%s)", ErrAuth, host, resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s on %s", ErrNotFound, rel, host)
	}
	return fmt.Errorf("%s on %s: unexpected status %s", rel, host, resp.Status)
}

// httpVersion returns a validator usable in If-Range: a strong ETag, else
// Last-Modified.
func httpVersion(resp *http.Response) string {
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return et
	}
	return resp.Header.Get("Last-Modified")
}

// stripURLError drops the *url.Error wrapper, whose message repeats the
// URL, keeping the cause.
func stripURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// httpSource downloads one file over HTTP(S), resuming with Range and
// If-Range so a file changed on the server is fetched again whole rather
// than spliced.
type httpSource struct {
	u      *url.URL
	client *http.Client
	cred   *credential
}

func newHTTPSource(u *url.URL, opts Options) (*httpSource, error) {
	cred, err := httpCredential(u, opts)
	if err != nil {
		return nil, err
	}
	c := opts.Policy.HTTPClient(0)
	return &httpSource{u: u, client: c, cred: cred}, nil
}

func (s *httpSource) String() string { return redact(s.u) }

// Close drops idle connections.
func (s *httpSource) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

func (s *httpSource) do(req *http.Request) (*http.Response, error) {
	if s.cred != nil {
		req.SetBasicAuth(s.cred.login, s.cred.password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, s.u.Host, stripURLError(err))
	}
	return resp, nil
}

func (s *httpSource) Stat(ctx context.Context) (Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.u.String(), nil)
	if err != nil {
		return Info{}, err
	}
	resp, err := s.do(req)
	if err != nil {
		return Info{}, err
	}
	resp.Body.Close()
	if err := httpStatusError(resp, s.u.Host, s.u.Path); err != nil {
		return Info{}, err
	}
	if resp.ContentLength < 0 {
		return Info{}, fmt.Errorf("%s on %s: server did not announce a size", s.u.Path, s.u.Host)
	}
	return Info{Size: resp.ContentLength, Version: httpVersion(resp)}, nil
}

func (s *httpSource) Open(ctx context.Context, offset int64, info Info) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		if info.Version != "" {
			req.Header.Set("If-Range", info.Version)
		}
	}
	resp, err := s.do(req)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case offset > 0 && resp.StatusCode == http.StatusPartialContent:
		return resp.Body, offset, nil
	case resp.StatusCode == http.StatusOK:
		return resp.Body, 0, nil
	}
	resp.Body.Close()
	if err := httpStatusError(resp, s.u.Host, s.u.Path); err != nil {
		return nil, 0, err
	}
	return nil, 0, fmt.Errorf("%s on %s: unexpected status %s", s.u.Path, s.u.Host, resp.Status)
}
