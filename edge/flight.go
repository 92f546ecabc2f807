package edge

import (
	"context"
	"io"
	"sync"
)

// flight is one origin fetch shared by every request that misses its key
// while the fetch runs. The fetch goroutine appends the body to buf as it
// arrives; each waiter reads buf from offset 0 at its own pace, so the
// first bytes reach every player before the origin has finished, and a
// slow player never holds back a fast one. When the body is complete the
// same bytes become the cached Object.
//
// Only the prefix published in buf is ever read, and published bytes are
// never written again (a grown buffer is a new array), so waiters copy out
// of it without holding mu. changed is closed and replaced on every state
// change: a broadcast that, unlike sync.Cond, a waiter can abandon when its
// request context ends.
type flight struct {
	key string

	mu      sync.Mutex
	changed chan struct{}
	hdr     bool       // response headers known
	meta    objectMeta // valid once hdr
	length  int64      // Content-Length once hdr; -1 if the origin sent none
	buf     []byte     // body bytes published so far
	done    bool
	obj     *Object // on success, once done
	err     error   // on failure, once done
}

// newFlight returns a flight for key that has received nothing yet.
func newFlight(key string) *flight {
	return &flight{key: key, changed: make(chan struct{}), length: -1}
}

// broadcastLocked wakes every waiter; the caller holds mu.
func (fl *flight) broadcastLocked() {
	close(fl.changed)
	fl.changed = make(chan struct{})
}

// setHeaders publishes the response metadata and body length (-1 if
// unknown).
func (fl *flight) setHeaders(meta objectMeta, length int64) {
	fl.mu.Lock()
	fl.hdr, fl.meta, fl.length = true, meta, length
	fl.broadcastLocked()
	fl.mu.Unlock()
}

// publish makes buf, which extends the previously published bytes, visible
// to waiters.
func (fl *flight) publish(buf []byte) {
	fl.mu.Lock()
	fl.buf = buf
	fl.broadcastLocked()
	fl.mu.Unlock()
}

// finish ends the flight with its object, whose bytes become the whole
// published body, or with an error.
func (fl *flight) finish(obj *Object, err error) {
	fl.mu.Lock()
	fl.done, fl.obj, fl.err = true, obj, err
	if obj != nil {
		fl.buf = obj.data
	}
	fl.broadcastLocked()
	fl.mu.Unlock()
}

// completed returns the object if the flight has succeeded, else nil.
func (fl *flight) completed() *Object {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.obj
}

// headers waits until the response metadata is known and returns it with
// the body length (-1 if unknown), or the error that ended the flight
// first, or ctx's error.
func (fl *flight) headers(ctx context.Context) (*objectMeta, int64, error) {
	for {
		fl.mu.Lock()
		switch {
		case fl.hdr:
			meta, length := &fl.meta, fl.length
			fl.mu.Unlock()
			return meta, length, nil
		case fl.done:
			err := fl.err
			fl.mu.Unlock()
			return nil, 0, err
		}
		ch := fl.changed
		fl.mu.Unlock()
		if err := waitOn(ctx, ch); err != nil {
			return nil, 0, err
		}
	}
}

// result waits until the flight has ended and returns its outcome.
func (fl *flight) result(ctx context.Context) (*Object, error) {
	for {
		fl.mu.Lock()
		if fl.done {
			obj, err := fl.obj, fl.err
			fl.mu.Unlock()
			return obj, err
		}
		ch := fl.changed
		fl.mu.Unlock()
		if err := waitOn(ctx, ch); err != nil {
			return nil, err
		}
	}
}

// next waits until bytes beyond off are published and returns all the
// published bytes from off on. It returns io.EOF when the flight succeeded
// and off is the end, or the flight's error if it failed first.
func (fl *flight) next(ctx context.Context, off int) ([]byte, error) {
	for {
		fl.mu.Lock()
		buf, done, err := fl.buf, fl.done, fl.err
		ch := fl.changed
		fl.mu.Unlock()
		switch {
		case len(buf) > off:
			return buf[off:], nil
		case done && err != nil:
			return nil, err
		case done:
			return nil, io.EOF
		}
		if err := waitOn(ctx, ch); err != nil {
			return nil, err
		}
	}
}

// waitOn blocks until ch is closed or ctx ends.
func waitOn(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
