package storage

import (
	"errors"
	"fmt"
	"io"
)

// sizeCheckReader fails an upload with ErrSizeMismatch as soon as it is
// longer than announced, or at EOF when it is shorter, so a truncated or
// overlong upload never reaches the index.
type sizeCheckReader struct {
	r        io.Reader
	expected int64
	n        int64
}

// Read reads from the underlying reader and enforces the expected size.
func (s *sizeCheckReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.expected {
		return n, fmt.Errorf("got more than %d bytes: %w", s.expected, ErrSizeMismatch)
	}
	if errors.Is(err, io.EOF) && s.n != s.expected {
		return n, fmt.Errorf("got %d bytes, expected %d: %w", s.n, s.expected, ErrSizeMismatch)
	}
	return n, err
}
