package edge

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// dashboardPrefix is where the edge serves a coordinator's dashboard.
const dashboardPrefix = "/dashboard"

// newDashboardProxy forwards /dashboard/... to the coordinator dashboard at
// target (validated by Config.Validate), with the prefix stripped. The
// dashboard's pages use relative URLs only, so they work under the prefix.
// Only GET and HEAD pass: the proxy exposes reads, never changes.
func newDashboardProxy(target string, log hclog.Logger) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			p := strings.TrimPrefix(r.In.URL.Path, dashboardPrefix)
			r.Out.URL.Path = strings.TrimSuffix(u.Path, "/") + p
			r.Out.URL.RawPath = ""
			r.Out.Host = u.Host
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("dashboard proxy failed", "path", r.URL.Path, "error", err)
			http.Error(w, "dashboard unreachable", http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == dashboardPrefix {
			// Relative URLs in the page resolve against the directory.
			http.Redirect(w, r, dashboardPrefix+"/", http.StatusMovedPermanently)
			return
		}
		rp.ServeHTTP(w, r)
	}), nil
}
