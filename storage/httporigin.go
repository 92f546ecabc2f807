package storage

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// httpObjectPrefix is the URL path prefix under which objects are served.
const httpObjectPrefix = "/o/"

// httpAssetPrefix is the URL path prefix of asset records: GET /a/<asset>
// answers the record as JSON (see AssetRecordJSON), so an edge fronting
// several nodes can find the one holding an asset.
const httpAssetPrefix = "/a/"

// httpOrigin serves objects over HTTP for the edge: GET and HEAD on
// /o/<path>, with ranges and conditional requests handled by
// http.ServeContent.
type httpOrigin struct {
	store *Store
	log   hclog.Logger
}

// NewHTTPHandler returns the HTTP origin handler for s. It answers
// GET/HEAD /o/<path> with the object's content, Content-Type, Last-Modified
// and a strong ETag (the quoted SHA-256 hex), supporting Range (206, 416)
// and If-None-Match/If-Modified-Since (304). Missing objects are 404,
// invalid paths 400 and other methods 405. The content length is checked
// on open; hashes are not re-verified per request, because ranged edge
// fetches would each read the whole object (see Config.VerifyReads for gRPC).
func NewHTTPHandler(s *Store, log hclog.Logger) http.Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &httpOrigin{store: s, log: log.Named("storage-http")}
}

// ServeHTTP serves one object request.
func (h *httpOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, httpAssetPrefix); ok {
		h.serveAsset(w, r, id)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, httpObjectPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	obj, rc, err := h.store.Open(path)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer rc.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", obj.ContentType)
	hdr.Set("ETag", `"`+obj.SHA256+`"`)
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(countingWriter{w, &h.store.stats.getBytesHTTP}, r, obj.Path, obj.ModTime, rc)
}

// fail writes the HTTP status for a Store error; it is the HTTP
// counterpart of toStatus.
func (h *httpOrigin) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrInvalidPath):
		code = http.StatusBadRequest
	case errors.Is(err, ErrClosed):
		code = http.StatusServiceUnavailable
	}
	if code >= http.StatusInternalServerError {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	http.Error(w, http.StatusText(code), code)
}
