package urlpolicy

import "net/http"

// guardedTransport checks each request's URL against the policy before
// handing it to the underlying transport, so a client built by HTTPClient
// cannot be pointed at a refused URL even when the caller skipped
// CheckURL.
type guardedTransport struct {
	policy Policy
	next   *http.Transport
}

// RoundTrip implements http.RoundTripper.
func (g guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.checkParsed(req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (g guardedTransport) CloseIdleConnections() { g.next.CloseIdleConnections() }
