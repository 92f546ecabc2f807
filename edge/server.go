package edge

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// corsExposed lists the response headers browser players (hls.js, dash.js,
// Shaka) read from cross-origin responses.
const corsExposed = "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, X-Cache, Warning"

// corsAllowed is the preflight answer when the browser names no headers.
const corsAllowed = "Range, If-None-Match, If-Modified-Since, If-Range"

// Server is the HTTP handler players hit. It serves
// GET|HEAD /v/{asset}/{path...} (or /t/{token}/v/{asset}/{path...} with
// signed URLs) from a memory LRU backed by an optional disk tier, filling
// misses from the storage origin through a streaming, coalescing Fetcher.
// Paths under /v/{asset}/manifest.ism/ are Microsoft Smooth Streaming,
// derived from the asset's CMAF tracks (see smoothView).
// It also serves GET /healthz and Prometheus metrics at GET /metrics.
//
// Responses carry X-Cache: HIT (memory or disk), MISS (fetched for this
// request, possibly shared with others) or STALE (an expired copy served
// because the origin failed, with Warning: 110).
type Server struct {
	log      hclog.Logger
	now      func() time.Time
	tiers    *tiers
	disk     *diskCache // nil when the disk tier is off
	fetcher  *Fetcher
	cc       cacheControl
	verifier *verifier // nil when signing is off
	metrics  *metrics
	mux      *http.ServeMux
	smooth   *smoothView
}

// New validates cfg and returns a Server. log may be nil. With a disk tier
// configured, New empties cfg.DiskDir.
func New(cfg Config, log hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("edge")
	var disk *diskCache
	if cfg.DiskBytes > 0 {
		var err error
		if disk, err = newDiskCache(cfg.DiskDir, cfg.DiskBytes, log.Named("disk")); err != nil {
			return nil, err
		}
	}
	t := newTiers(cfg.MemoryBytes, disk)
	s := &Server{
		log:     log,
		now:     cfg.clock(),
		tiers:   t,
		disk:    disk,
		fetcher: NewFetcher(cfg, t, log.Named("fetcher")),
		cc:      newCacheControl(cfg),
		mux:     http.NewServeMux(),
		smooth:  newSmoothView(),
	}
	if len(cfg.SigningKey) > 0 {
		s.verifier = newVerifier(cfg.SigningKey)
	}
	s.metrics = newMetrics(s.fetcher, t)
	s.mux.HandleFunc("GET /healthz", handleHealth)
	s.mux.Handle("GET /metrics", s.metrics.handler)
	if cfg.DashboardURL != "" {
		dp, err := newDashboardProxy(cfg.DashboardURL, log.Named("dashboard"))
		if err != nil {
			return nil, err
		}
		s.mux.Handle(dashboardPrefix, dp)
		s.mux.Handle(dashboardPrefix+"/", dp)
	}
	log.Info("edge ready", "origins", cfg.originNodes(), "memory_bytes", cfg.MemoryBytes,
		"disk_dir", cfg.DiskDir, "disk_bytes", cfg.DiskBytes, "signed_urls", s.verifier != nil)
	return s, nil
}

// ServeHTTP implements http.Handler. Object paths are parsed and validated
// here rather than by ServeMux, which would answer a path like
// /v/a/../../etc/passwd with a redirect to its cleaned form instead of
// refusing it, and whose pattern matching would cost the hit path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/v/") && !strings.HasPrefix(p, "/t/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hdrAnyOrigin
	h["Access-Control-Expose-Headers"] = hdrExposed
	key, vpath, token, err := parseObjectPath(p)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		s.handlePreflight(w, r)
		return
	default:
		h["Allow"] = hdrAllowedMth
		s.errorStatus(w, http.StatusMethodNotAllowed)
		return
	}
	if s.verifier != nil {
		if err := s.verifier.verify(token, vpath, s.now()); err != nil {
			s.log.Debug("refused url token", "path", p, "error", err)
			s.errorStatus(w, http.StatusForbidden)
			return
		}
	}
	if asset, objPath, _ := strings.Cut(key, "/"); isSmoothPath(objPath) {
		s.serveSmooth(w, r, key, asset, objPath)
		return
	}
	s.serveKey(w, r, key)
}

// Stats returns a snapshot of the request and cache counters.
func (s *Server) Stats() Stats {
	m := s.metrics
	diskObjects, diskBytes := s.tiers.diskStats()
	return Stats{
		Hits:           m.hits.Load(),
		Misses:         m.misses.Load(),
		OriginFetches:  s.fetcher.Fetches(),
		CachedObjects:  s.tiers.mem.Len(),
		CachedBytes:    s.tiers.mem.Bytes(),
		CoalescedWaits: m.coalesced.Load(),
		DiskHits:       m.diskHits.Load(),
		StaleServed:    m.stale.Load(),
		DiskObjects:    diskObjects,
		DiskBytes:      diskBytes,
		BytesSent:      m.bytesSent.Load(),
	}
}

// Close cancels origin fetches still running and releases idle origin
// connections. It does not stop an http.Server using s; shut that down
// first. The disk tier's files are left for the next New to delete.
func (s *Server) Close() error {
	s.fetcher.Close()
	return nil
}

// handlePreflight answers CORS preflight so browser players may send Range
// and conditional headers cross-origin. It needs no token: it reveals
// nothing and browsers do not send credentials with it.
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
	s.metrics.request(http.StatusNoContent)
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok")
}
