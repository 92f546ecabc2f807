package storage

import (
	"io"
	"net/http"
	"sync/atomic"
)

// countingWriter counts the body bytes an HTTP response sends into n. It
// forwards ReadFrom so http.ServeContent keeps its sendfile path.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Uint64
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(uint64(n))
	return n, err
}

// ReadFrom copies r through the wrapped writer's ReadFrom when it has one.
func (w countingWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.n.Add(uint64(n))
	return n, err
}
