package transfer

import (
	"context"
	"io"
)

// countingReader reports bytes read to progress and stops when ctx ends,
// so a cancelled transfer stops within one read even on protocols whose
// client ignores contexts.
type countingReader struct {
	r        io.Reader
	ctx      context.Context
	progress func(int64)
	size     int64 // bytes r holds, when known
}

// Size returns the bytes the reader holds; the SFTP client uses it to
// pipeline concurrent writes instead of writing one packet at a time.
func (c *countingReader) Size() int64 { return c.size }

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 && c.progress != nil {
		c.progress(int64(n))
	}
	return n, err
}
