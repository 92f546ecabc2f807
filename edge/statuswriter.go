package edge

import (
	"io"
	"net/http"
	"sync"
)

// statusWriter records the status and body bytes of a response written by
// code the Server does not control (http.ServeContent), for metrics. It
// passes ReadFrom through so a disk hit still goes out with sendfile.
// Instances are pooled; see getStatusWriter.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// getStatusWriter returns a pooled statusWriter wrapping w; release it
// with putStatusWriter once the response is written.
func getStatusWriter(w http.ResponseWriter) *statusWriter {
	sw := statusWriters.Get().(*statusWriter)
	sw.ResponseWriter, sw.status, sw.bytes = w, 0, 0
	return sw
}

// putStatusWriter returns sw to the pool.
func putStatusWriter(sw *statusWriter) {
	sw.ResponseWriter = nil
	statusWriters.Put(sw)
}

// code returns the status written, 200 if only a body was written or
// nothing at all (net/http then sends 200).
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts body bytes.
func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom lets io.Copy use the underlying writer's ReadFrom (sendfile
// from an *os.File) while counting bytes.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Flush passes through to the underlying writer if it can flush.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap supports http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
