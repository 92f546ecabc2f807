package edge

import (
	"errors"
	"net/http"
	"os"
)

// serveKey answers a validated, authorised GET or HEAD for the object
// under key: from memory, then disk, then the origin through a shared
// flight, falling back to an expired copy if the origin fails.
func (s *Server) serveKey(w http.ResponseWriter, r *http.Request, key string) {
	now := s.now()
	var stale *Object
	if obj, ok := s.tiers.mem.Get(key); ok {
		if obj.Fresh(now) {
			s.metrics.hits.Add(1)
			s.serveMemory(w, r, obj, cacheHit)
			return
		}
		stale = obj
	}
	var staleFile *os.File
	var staleMeta *objectMeta
	if stale == nil && s.disk != nil {
		if f, meta, ok := s.disk.open(key); ok {
			if meta.Fresh(now) {
				s.metrics.hits.Add(1)
				s.metrics.diskHits.Add(1)
				s.serveFile(w, r, f, meta, cacheHit)
				f.Close()
				return
			}
			staleFile, staleMeta = f, meta
			defer staleFile.Close()
		}
	}
	fl, obj, created := s.fetcher.join(key)
	if obj != nil {
		// A flight for key completed since the lookup above.
		s.metrics.hits.Add(1)
		s.serveMemory(w, r, obj, cacheHit)
		return
	}
	s.metrics.misses.Add(1)
	if !created {
		s.metrics.coalesced.Add(1)
	}
	haveStale := stale != nil || staleFile != nil
	err := s.serveFlight(w, r, fl, haveStale)
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLarge):
		s.stream(w, r, key)
	case haveStale && errors.Is(err, ErrOrigin) && r.Context().Err() == nil:
		s.metrics.stale.Add(1)
		s.log.Debug("origin failed, serving stale copy", "key", key, "error", err)
		if stale != nil {
			s.serveMemory(w, r, stale, cacheStale)
		} else {
			s.serveFile(w, r, staleFile, staleMeta, cacheStale)
		}
	default:
		s.fail(w, r, key, err)
	}
}

// serveFlight answers from a shared origin fetch. A plain GET of a body of
// known length streams the bytes as they arrive; HEAD waits only for the
// headers; range and conditional requests, and requests holding a stale
// copy to fall back on (whole), wait for the complete object. It returns
// an error only when nothing has been written, so the caller can still
// answer; a fetch failing mid-stream cuts the response short instead, and
// net/http closes the connection since less than Content-Length was sent.
func (s *Server) serveFlight(w http.ResponseWriter, r *http.Request, fl *flight, whole bool) error {
	ctx := r.Context()
	if whole || !plain(r) {
		obj, err := fl.result(ctx)
		if err != nil {
			return err
		}
		s.serveMemory(w, r, obj, cacheMiss)
		return nil
	}
	meta, length, err := fl.headers(ctx)
	if err != nil {
		return err
	}
	if length < 0 {
		obj, err := fl.result(ctx)
		if err != nil {
			return err
		}
		s.serveMemory(w, r, obj, cacheMiss)
		return nil
	}
	h := w.Header()
	meta.setHeaders(h)
	h["Content-Length"] = meta.hLength
	cacheMiss.set(h)
	w.WriteHeader(http.StatusOK)
	s.metrics.request(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	flusher, _ := w.(http.Flusher)
	off := 0
	for int64(off) < length {
		chunk, err := fl.next(ctx, off)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("origin fetch failed mid-stream", "key", fl.key, "sent", off, "error", err)
			}
			break
		}
		n, werr := w.Write(chunk)
		off += n
		if werr != nil {
			break
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	s.metrics.bytesSent.Add(uint64(off))
	return nil
}

// plain reports whether r carries no Range or conditional header, so the
// full object can be written without http.ServeContent. The header map is
// indexed with canonical keys directly, which allocates nothing.
func plain(r *http.Request) bool {
	h := r.Header
	return h["Range"] == nil && h["If-None-Match"] == nil && h["If-Modified-Since"] == nil &&
		h["If-Match"] == nil && h["If-Unmodified-Since"] == nil
}
