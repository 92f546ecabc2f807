package urlpolicy

import (
	"fmt"
	"io"
)

// limitedReader is the reader LimitReader returns. Unlike io.LimitReader it
// tells a source that is exactly max bytes long from one that is longer,
// by reading one byte past the limit.
type limitedReader struct {
	r    io.Reader
	left int64 // bytes that may still be returned
	max  int64
	err  error // sticky ErrTooLarge once the limit is passed
}

// Read implements io.Reader.
func (l *limitedReader) Read(b []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(b) == 0 {
		return 0, nil
	}
	if int64(len(b)) > l.left+1 {
		b = b[:l.left+1]
	}
	n, err := l.r.Read(b)
	if int64(n) <= l.left {
		l.left -= int64(n)
		return n, err
	}
	n = int(l.left)
	l.left = 0
	l.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.max)
	return n, l.err
}
