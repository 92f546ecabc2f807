// Package dashboard serves the web dashboard of a coordinator: the pages
// (the esbuild bundle from web/, embedded in the binary) and a small
// read-only JSON API under /api/ over the coordinator's job store and
// asset catalog. Any
// coordinator can serve it: jobs come from etcd; agents are known to the
// leader only, and a follower says where the leader is.
//
// Every URL the pages use is relative, so the dashboard works at the root
// of its own listener and under a prefix (the edge proxies /dashboard/).
package dashboard

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/coordinator/catalog"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/web"
)

// Source is what the dashboard reads; *coordinator.Coordinator implements
// it. Errors wrap the coordinator's sentinels (ErrNotFound, ErrInvalid,
// ErrNotLeader).
type Source interface {
	ReadJobs(ctx context.Context, limit int) ([]*v1.Job, error)
	ReadJob(ctx context.Context, id string) (*v1.Job, []*v1.Task, error)
	Agents(ctx context.Context) ([]coordinator.AgentStatus, error)
	LeaderAddress(ctx context.Context) (string, error)
	AssetURL(assetID, path string) string
	// Catalog is the asset records' store, read by /api/assets.
	Catalog() *catalog.Store
}

// ErrForbidden is what an Authenticator wraps to refuse a known caller
// (403); any other error means the caller is not authenticated (401).
var ErrForbidden = errors.New("permission denied")

// Authenticator checks a request to the API before it reads anything. It
// is where API tokens plug in; nil lets every request through.
type Authenticator func(*http.Request) error

// Config holds the dashboard's settings.
type Config struct {
	// Authenticate guards /api/ (the data). The pages themselves are
	// static code and carry no data, so they stay open and can show the
	// API's refusal.
	Authenticate Authenticator
	// JobsLimit caps the jobs list (newest first); default 200.
	JobsLimit int
	// ReadTimeout bounds one API request's reads from etcd; default 5s.
	ReadTimeout time.Duration
	// Assets are the built pages; nil means the embedded bundle
	// (web.Dist()). Tests substitute their own.
	Assets fs.FS
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.JobsLimit == 0 {
		c.JobsLimit = 200
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 5 * time.Second
	}
	if c.Assets == nil {
		c.Assets = web.Dist()
	}
	return c
}

// Validate reports invalid settings.
func (c Config) Validate() error {
	if c.JobsLimit < 1 || c.JobsLimit > 10000 {
		return errors.New("jobs limit must be within 1..10000")
	}
	if c.ReadTimeout <= 0 {
		return errors.New("read timeout must be positive")
	}
	return nil
}

// Handler is the dashboard's http.Handler.
type Handler struct {
	src Source
	cfg Config
	log hclog.Logger
	mux *http.ServeMux
}

// New returns the dashboard over src. cfg is completed with defaults and
// validated.
func New(src Source, cfg Config, log hclog.Logger) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{src: src, cfg: cfg, log: log.Named("dashboard"), mux: http.NewServeMux()}
	h.mux.Handle("GET /api/jobs", h.api(h.listJobs))
	h.mux.Handle("GET /api/jobs/{id}", h.api(h.getJob))
	h.mux.Handle("GET /api/agents", h.api(h.listAgents))
	h.mux.Handle("GET /api/assets", h.api(h.listAssets))
	h.mux.Handle("GET /api/assets/{id}", h.api(h.getAsset))
	h.mux.Handle("GET /api/", h.api(func(*http.Request) (any, error) { return nil, errNoRoute }))
	h.mux.Handle("GET /", h.pages())
	return h, nil
}

// ServeHTTP implements http.Handler. The dashboard only reads: every
// method but GET and HEAD is refused.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}
