package edge

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Server timeouts of the edge listener: a request (headers included) must
// arrive within fastReadTimeout, against slow-loris clients; idle
// keep-alive connections close after fastIdleTimeout. There is no write
// timeout: a large download to a slow player may take minutes.
const (
	fastReadTimeout = 10 * time.Second
	fastIdleTimeout = 120 * time.Second
	// fastMaxHeader is the largest request head; fasthttp allocates a
	// read buffer of this size per connection, so it stays small (signed
	// URLs are well under it) and larger heads get 431.
	fastMaxHeader = 16 << 10
)

// FastServer is the edge's HTTP listener. Plain GET and HEAD hits on
// objects held in memory, which are most of an edge's traffic, are
// answered directly on fasthttp, without net/http's per-request state and
// header map work; every other request (misses, ranges, conditional
// requests, the disk tier, errors, preflight, /metrics) goes to the
// net/http Server unchanged through fasthttpadaptor, which streams the
// answer as the handler flushes it. Both paths write the same headers.
type FastServer struct {
	s    *Server
	slow fasthttp.RequestHandler
	srv  *fasthttp.Server
}

// NewFastServer returns the listener for s.
func NewFastServer(s *Server) *FastServer {
	f := &FastServer{s: s, slow: fasthttpadaptor.NewFastHTTPHandler(detached{s})}
	f.srv = &fasthttp.Server{
		Handler:               f.handle,
		ReadTimeout:           fastReadTimeout,
		IdleTimeout:           fastIdleTimeout,
		ReadBufferSize:        fastMaxHeader,
		MaxRequestBodySize:    fastMaxHeader,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                fastLogger{s},
	}
	return f
}

// Serve accepts connections on l until Shutdown.
func (f *FastServer) Serve(l net.Listener) error { return f.srv.Serve(l) }

// Shutdown stops accepting, closes idle connections and waits for the
// requests in flight.
func (f *FastServer) Shutdown() error { return f.srv.Shutdown() }

// handle serves one request.
func (f *FastServer) handle(ctx *fasthttp.RequestCtx) {
	if !f.serveHit(ctx) {
		f.slow(ctx)
	}
}

// serveHit answers ctx if it is a plain GET or HEAD of a fresh object in
// memory or on the disk tier, and reports whether it did. Anything it does not fully handle,
// including every error, is left to the net/http path, so status codes,
// logging and metrics of unusual requests stay in one place.
func (f *FastServer) serveHit(ctx *fasthttp.RequestCtx) bool {
	s := f.s
	get := ctx.IsGet()
	if !get && !ctx.IsHead() {
		return false
	}
	// The raw path: fasthttp's Path() is normalised (dot segments
	// removed), which would hide traversal attempts parseObjectPath must
	// refuse. A path with escapes takes the slow path, which decodes it.
	raw := ctx.RequestURI()
	if i := bytes.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if bytes.IndexByte(raw, '%') >= 0 || !(bytes.HasPrefix(raw, []byte("/v/")) || bytes.HasPrefix(raw, []byte("/t/"))) {
		return false
	}
	h := &ctx.Request.Header
	if h.Peek("Range") != nil || h.Peek("If-None-Match") != nil || h.Peek("If-Modified-Since") != nil ||
		h.Peek("If-Match") != nil || h.Peek("If-Unmodified-Since") != nil {
		return false
	}
	key, vpath, token, err := parseObjectPath(string(raw))
	if err != nil {
		return false
	}
	if s.verifier != nil && s.verifier.verify(token, vpath, s.now()) != nil {
		return false
	}
	now := s.now()
	resp := &ctx.Response
	if obj, ok := s.tiers.mem.Get(key); ok {
		if !obj.Fresh(now) {
			return false // the slow path revalidates, or serves it stale
		}
		s.metrics.hits.Add(1)
		hitHeaders(resp, &obj.objectMeta)
		// The object is immutable and outlives the response: no copy.
		resp.SetBodyRaw(obj.data)
		s.sent(get, int64(len(obj.data)))
		return true
	}
	if s.disk == nil {
		return false
	}
	file, meta, ok := s.disk.open(key)
	if !ok {
		return false
	}
	st, err := file.Stat()
	if err != nil || !meta.Fresh(now) {
		file.Close()
		return false
	}
	s.metrics.hits.Add(1)
	s.metrics.diskHits.Add(1)
	hitHeaders(resp, meta)
	if !get {
		file.Close()
		resp.Header.SetContentLength(int(st.Size()))
		resp.SkipBody = true
	} else {
		// fasthttp sends the file with sendfile and closes it.
		resp.SetBodyStream(file, int(st.Size()))
	}
	s.sent(get, st.Size())
	return true
}

// hitHeaders writes the status and headers of a hit: the same set the
// net/http path writes (CORS, entity headers, X-Cache: HIT).
func hitHeaders(resp *fasthttp.Response, m *objectMeta) {
	resp.SetStatusCode(fasthttp.StatusOK)
	rh := &resp.Header
	rh.SetBytesV("Access-Control-Allow-Origin", fastAnyOrigin)
	rh.SetBytesV("Access-Control-Expose-Headers", fastExposed)
	if m.contentType != "" {
		rh.SetContentType(m.contentType)
	}
	if m.etag != "" {
		rh.Set("Etag", m.etag)
	}
	if m.hLastModified != nil {
		rh.Set("Last-Modified", m.hLastModified[0])
	}
	if m.hCacheControl != nil {
		rh.Set("Cache-Control", m.hCacheControl[0])
	}
	rh.SetBytesV("Accept-Ranges", fastBytes)
	rh.SetBytesV("X-Cache", fastHit)
}

// sent counts a 200 answer and, for a GET, its body bytes.
func (s *Server) sent(get bool, n int64) {
	s.metrics.request(fasthttp.StatusOK)
	if get {
		s.metrics.bytesSent.Add(uint64(n))
	}
}

// detached runs the net/http handler on a request that owns its memory.
// The adaptor builds the request's strings (path, query, header values)
// over fasthttp's buffers without copying, and fasthttp reuses those
// buffers for the next request on the connection, while what the handler
// derives from them (cache keys, flights) outlives the request. Its
// context is likewise fasthttp's recycled request context; the handler
// gets one of its own, ended when it returns.
type detached struct{ h http.Handler }

func (d detached) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = r.WithContext(ctx) // a shallow copy: URL and Header are replaced below
	u := *r.URL
	u.Path, u.RawPath, u.RawQuery = strings.Clone(u.Path), strings.Clone(u.RawPath), strings.Clone(u.RawQuery)
	u.Host, u.Scheme = strings.Clone(u.Host), strings.Clone(u.Scheme)
	r.URL = &u
	r.RequestURI, r.Host, r.Method = strings.Clone(r.RequestURI), strings.Clone(r.Host), strings.Clone(r.Method)
	h := make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		c := make([]string, len(vs))
		for i, v := range vs {
			c[i] = strings.Clone(v)
		}
		h[strings.Clone(k)] = c
	}
	r.Header = h
	d.h.ServeHTTP(w, r)
}

// Header values of the hit path, as bytes.
var (
	fastAnyOrigin = []byte("*")
	fastExposed   = []byte(corsExposed)
	fastBytes     = []byte("bytes")
	fastHit       = []byte("HIT")
)

// fastLogger sends fasthttp's own messages (connection errors) to the
// edge's logger at debug level.
type fastLogger struct{ s *Server }

func (l fastLogger) Printf(format string, args ...any) {
	l.s.log.Debug("http server", "message", fmt.Sprintf(format, args...))
}
