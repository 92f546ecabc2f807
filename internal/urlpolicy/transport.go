package urlpolicy

import (
	"fmt"
	"net/http"
	"time"
)

// Transport returns an HTTP transport whose connections go through Dialer,
// so every address it connects to is checked by Control. Proxies are
// disabled: through a proxy the dialer would only ever see the proxy's
// address, and the source would be reached unchecked.
func (p Policy) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           p.Dialer().DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// HTTPClient returns a client for fetching sources: it checks every request
// URL with the CheckURL rules before sending, follows at most MaxRedirects
// redirects and re-checks each target (CheckRedirect), and connects only
// through Transport. timeout bounds a whole request including reading the
// body; 0 means none, which suits large sources whose reads are bounded by
// the caller's context instead.
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     guardedTransport{policy: p, next: p.Transport()},
		CheckRedirect: p.CheckRedirect,
		Timeout:       timeout,
	}
}

// CheckRedirect is an http.Client CheckRedirect function: it stops after
// MaxRedirects redirects (ErrTooManyRedirects) and refuses a target that
// CheckURL would refuse, before any connection to it is made. A fragment
// in the target is ignored since it is never sent.
func (p Policy) CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, MaxRedirects)
	}
	if err := p.checkParsed(req.URL); err != nil {
		return fmt.Errorf("redirect refused: %w", err)
	}
	return nil
}
