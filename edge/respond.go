package edge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// streamedHeaders are copied from the origin when an object is streamed.
var streamedHeaders = []string{"Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified"}

// serveMemory writes an object held in memory. A plain GET or HEAD is
// written directly with the object's preformatted headers, which allocates
// nothing beyond net/http's own per-request state; range and conditional
// requests go through http.ServeContent (206/416/304/412) against the ETag
// and Last-Modified set here.
func (s *Server) serveMemory(w http.ResponseWriter, r *http.Request, obj *Object, cs cacheStatus) {
	h := w.Header()
	obj.setHeaders(h)
	cs.set(h)
	if plain(r) {
		h["Content-Length"] = obj.hLength
		w.WriteHeader(http.StatusOK)
		s.metrics.request(http.StatusOK)
		if r.Method != http.MethodHead {
			n, _ := w.Write(obj.data)
			s.metrics.bytesSent.Add(uint64(n))
		}
		return
	}
	s.serveContent(w, r, obj.lastModified, bytes.NewReader(obj.data))
}

// serveFile writes an object from the disk tier through http.ServeContent,
// which handles Range and conditional requests and, for a plain GET, sends
// the file with sendfile.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, f *os.File, meta *objectMeta, cs cacheStatus) {
	h := w.Header()
	meta.setHeaders(h)
	cs.set(h)
	s.serveContent(w, r, meta.lastModified, f)
}

// serveContent runs http.ServeContent, recording the status and bytes.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, modtime time.Time, content io.ReadSeeker) {
	sw := getStatusWriter(w)
	http.ServeContent(sw, r, "", modtime, content)
	s.metrics.request(sw.code())
	s.metrics.bytesSent.Add(uint64(sw.bytes))
	putStatusWriter(sw)
}

// stream relays an object too large to cache, letting the origin answer
// Range and conditional headers itself.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, key string) {
	resp, err := s.fetcher.Open(r.Context(), key, r.Header)
	if err != nil {
		s.fail(w, r, key, err)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for _, k := range streamedHeaders {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusNotModified:
		h.Set("Content-Type", contentTypeFor(key, resp.Header.Get("Content-Type")))
		h.Set("Cache-Control", s.cc.forPath(key))
	default:
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		}
		h["Cache-Control"] = hdrNoStore
	}
	cacheMiss.set(h)
	w.WriteHeader(resp.StatusCode)
	s.metrics.request(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	// Send the headers now: a server that buffers until the handler
	// returns (fasthttpadaptor) then streams instead of holding a whole
	// download in memory.
	_ = http.NewResponseController(w).Flush()
	n, err := io.Copy(w, resp.Body)
	s.metrics.bytesSent.Add(uint64(n))
	if err != nil && r.Context().Err() == nil {
		s.log.Warn("streaming from origin failed", "key", key, "error", err)
	}
}

// fail maps a fetch error to a status: 404 for a missing object, 504 for
// an origin timeout, 502 for any other origin failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, key string, err error) {
	if r.Context().Err() != nil {
		return // the player went away; nobody reads the answer
	}
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrTimeout):
		status = http.StatusGatewayTimeout
	}
	if status != http.StatusNotFound {
		s.log.Warn("object request failed", "key", key, "status", status, "error", err)
	}
	s.errorStatus(w, status)
}

// badRequest answers 400 with the validation error.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("rejected request", "path", r.URL.Path, "error", err)
	w.Header()["Cache-Control"] = hdrNoStore
	http.Error(w, err.Error(), http.StatusBadRequest)
	s.metrics.request(http.StatusBadRequest)
}

// errorStatus answers status with its standard text, uncacheable.
func (s *Server) errorStatus(w http.ResponseWriter, status int) {
	w.Header()["Cache-Control"] = hdrNoStore
	http.Error(w, http.StatusText(status), status)
	s.metrics.request(status)
}
