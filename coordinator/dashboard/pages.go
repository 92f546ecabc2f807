package dashboard

import (
	"io/fs"
	"net/http"
)

// missingBundle is the page served when the binary was built without the
// browser bundle (a plain `go build` on a clean clone).
const missingBundle = `<!doctype html><meta charset="utf-8"><title>vodfleet dashboard</title>
<p>The dashboard bundle is missing from this build: run <code>make web</code> (or <code>make build</code>) and rebuild.</p>
`

// pages serves the bundle: index.html for "/", the files by name.
// Navigation is by URL fragment (#/jobs/ID, #/assets/ID, #/agents), so one
// page and relative URLs serve every view under any prefix.
func (h *Handler) pages() http.Handler {
	files := http.FileServerFS(h.cfg.Assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(h.cfg.Assets, "index.html"); err != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(missingBundle))
			return
		}
		if r.URL.Path != "/" && r.URL.Path != "/index.html" {
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
			return
		}
		// Serve index.html for "/" itself: FileServer would redirect
		// /index.html to ./, which is fine, but "/" must not list files.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		http.ServeFileFS(w, r, h.cfg.Assets, "index.html")
	})
}

// contentSecurityPolicy keeps the page to its own scripts and styles;
// media, posters and thumbnails come from the edge (any origin, since the
// playback URL is configured elsewhere), and the players fetch manifests
// and segments with XHR/fetch and feed them through blob: URLs (MSE).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' http: https: data: blob:; media-src 'self' http: https: blob:; " +
	"connect-src 'self' http: https:; worker-src 'self' blob:; frame-ancestors 'none'"
