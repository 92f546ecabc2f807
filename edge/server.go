package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/mediatype"
)

// corsExposed lists the response headers browser players (hls.js, dash.js,
// Shaka) read from cross-origin responses.
const corsExposed = "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, X-Cache"

// corsAllowed is the preflight answer when the browser names no headers.
const corsAllowed = "Range, If-None-Match, If-Modified-Since, If-Range"

// streamedHeaders are copied from the origin when an object is streamed.
var streamedHeaders = []string{"Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified"}

// Server is the HTTP handler players hit. It serves
// GET|HEAD /v/{asset}/{path...} from an in-memory LRU, filling misses from
// the storage origin through a coalescing Fetcher, and GET /healthz.
type Server struct {
	log        hclog.Logger
	now        func() time.Time
	cache      *LRU
	fetcher    *Fetcher
	mux        *http.ServeMux
	playlistCC string
	segmentCC  string
	hits       atomic.Uint64
	misses     atomic.Uint64
}

// New validates cfg and returns a Server. log may be nil.
func New(cfg Config, log hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("edge")
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	cache := NewLRU(cfg.MemoryBytes)
	s := &Server{
		log:        log,
		now:        now,
		cache:      cache,
		fetcher:    NewFetcher(cfg, cache, log.Named("fetcher")),
		mux:        http.NewServeMux(),
		playlistCC: fmt.Sprintf("public, max-age=%d", int64(cfg.PlaylistMaxAge/time.Second)),
		segmentCC:  fmt.Sprintf("public, max-age=%d, immutable", int64(cfg.SegmentMaxAge/time.Second)),
	}
	// A GET pattern also matches HEAD.
	s.mux.HandleFunc("GET /v/{asset}/{path...}", s.handleObject)
	s.mux.HandleFunc("OPTIONS /v/{asset}/{path...}", s.handlePreflight)
	s.mux.HandleFunc("GET /healthz", handleHealth)
	log.Info("edge ready", "origin", cfg.Origin, "memory_bytes", cfg.MemoryBytes)
	return s, nil
}

// ServeHTTP implements http.Handler. Object paths are validated before
// routing: ServeMux would otherwise answer a path like /v/a/../../etc/passwd
// with a redirect to its cleaned form instead of refusing it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v/"); ok {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", corsExposed)
		if _, _, err := splitObjectPath(rest); err != nil {
			s.badRequest(w, r, err)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Stats returns a snapshot of the request and cache counters.
func (s *Server) Stats() Stats {
	return Stats{
		Hits:          s.hits.Load(),
		Misses:        s.misses.Load(),
		OriginFetches: s.fetcher.Fetches(),
		CachedObjects: s.cache.Len(),
		CachedBytes:   s.cache.Bytes(),
	}
}

// Close releases idle origin connections. It does not stop an http.Server
// using s; shut that down first.
func (s *Server) Close() error {
	s.fetcher.Close()
	return nil
}

func (s *Server) handleObject(w http.ResponseWriter, r *http.Request) {
	asset, objPath := r.PathValue("asset"), r.PathValue("path")
	if err := validateObject(asset, objPath); err != nil {
		s.badRequest(w, r, err)
		return
	}
	// The key ignores the query string and headers: per-player tokens or
	// cache busters must not multiply copies of one segment.
	key := asset + "/" + objPath
	if obj, ok := s.cache.Get(key); ok && obj.Fresh(s.now()) {
		s.hits.Add(1)
		w.Header().Set("X-Cache", "HIT")
		s.serveObject(w, r, objPath, obj)
		return
	}
	s.misses.Add(1)
	w.Header().Set("X-Cache", "MISS")
	obj, err := s.fetcher.Fetch(r.Context(), key)
	switch {
	case err == nil:
		s.serveObject(w, r, objPath, obj)
	case errors.Is(err, ErrTooLarge):
		s.stream(w, r, key, objPath)
	default:
		s.fail(w, r, key, err)
	}
}

// serveObject writes a cached object; ServeContent handles HEAD, Range
// (206/416) and conditional requests (304) against the ETag set here.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, objPath string, obj *Object) {
	h := w.Header()
	h.Set("Content-Type", obj.ContentType())
	h.Set("ETag", obj.ETag())
	h.Set("Cache-Control", s.cacheControl(objPath))
	http.ServeContent(w, r, objPath, obj.LastModified(), bytes.NewReader(obj.Data()))
}

// stream relays an object too large to cache, letting the origin answer
// Range and conditional headers itself.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, key, objPath string) {
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
		h.Set("Content-Type", contentTypeFor(objPath, resp.Header.Get("Content-Type")))
		h.Set("Cache-Control", s.cacheControl(objPath))
	default:
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		}
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, resp.Body); err != nil && r.Context().Err() == nil {
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
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("rejected request", "path", r.URL.Path, "error", err)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// handlePreflight answers CORS preflight so browser players may send Range
// and conditional headers cross-origin.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	allowed := corsAllowed
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		allowed = req // content is public, so any requested header is fine
	}
	h.Set("Access-Control-Allow-Headers", allowed)
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// cacheControl returns the Cache-Control for objPath: short for playlists,
// which may be republished, long and immutable for everything else.
func (s *Server) cacheControl(objPath string) string {
	if mediatype.IsPlaylist(objPath) {
		return s.playlistCC
	}
	return s.segmentCC
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok")
}
