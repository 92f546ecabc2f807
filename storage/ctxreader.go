package storage

import (
	"context"
	"io"
)

// ctxReader stops a long copy once its context is done, so a cancelled
// upload does not keep writing to disk until the source drains.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
