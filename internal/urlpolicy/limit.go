package urlpolicy

import (
	"fmt"
	"io"
	"net/http"
)

// CheckSize returns an error wrapping ErrTooLarge if a source of n bytes
// exceeds MaxBytes. A negative n means the size is unknown and passes;
// the stream is then bounded by LimitReader.
func (p Policy) CheckSize(n int64) error {
	if p.MaxBytes > 0 && n > p.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, p.MaxBytes)
	}
	return nil
}

// LimitReader returns r bounded by MaxBytes: reading more than MaxBytes
// bytes fails with an error wrapping ErrTooLarge, after returning exactly
// MaxBytes bytes. A source of exactly MaxBytes ends with r's own io.EOF.
// With MaxBytes 0 it returns r.
func (p Policy) LimitReader(r io.Reader) io.Reader {
	if p.MaxBytes <= 0 {
		return r
	}
	return &limitedReader{r: r, left: p.MaxBytes, max: p.MaxBytes}
}

// LimitResponse enforces MaxBytes on an HTTP response: it refuses a
// declared Content-Length over the limit (closing the body) and otherwise
// replaces resp.Body with one bounded by LimitReader, so a server that
// lies about or omits the length is cut off too.
func (p Policy) LimitResponse(resp *http.Response) error {
	if err := p.CheckSize(resp.ContentLength); err != nil {
		_ = resp.Body.Close()
		return err
	}
	if p.MaxBytes > 0 {
		resp.Body = limitedBody{Reader: p.LimitReader(resp.Body), Closer: resp.Body}
	}
	return nil
}

// limitedBody pairs a bounded reader with the original body's Close.
type limitedBody struct {
	io.Reader
	io.Closer
}
