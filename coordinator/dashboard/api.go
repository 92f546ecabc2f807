package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/coordinator/catalog"
)

// errNoRoute answers unknown /api/ paths with a JSON 404.
var errNoRoute = errors.New("no such api endpoint")

// apiFunc reads what one API endpoint answers.
type apiFunc func(r *http.Request) (any, error)

// api wraps an endpoint: authentication, a read deadline, JSON out, and
// the one mapping from errors to HTTP statuses.
func (h *Handler) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if h.cfg.Authenticate != nil {
			if err := h.cfg.Authenticate(r); err != nil {
				code := http.StatusUnauthorized
				if errors.Is(err, ErrForbidden) {
					code = http.StatusForbidden
				} else {
					// The browser answers a Basic challenge with its own
					// sign-in prompt; the token is the password.
					w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
				}
				h.log.Debug("api request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "status", code, "error", err)
				writeJSON(w, code, apiError{Error: http.StatusText(code)})
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.ReadTimeout)
		defer cancel()
		v, err := f(r.WithContext(ctx))
		if err != nil {
			code := statusOf(err)
			if code == http.StatusInternalServerError {
				h.log.Warn("api read failed", "path", r.URL.Path, "error", err)
			}
			writeJSON(w, code, apiError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// statusOf maps the coordinator's sentinel errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, coordinator.ErrNotFound), errors.Is(err, catalog.ErrNotFound), errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, coordinator.ErrInvalid), errors.Is(err, catalog.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(v)
}

// jobsAnswer is GET /api/jobs.
type jobsAnswer struct {
	Jobs []jobView `json:"jobs"`
}

// listJobs answers GET /api/jobs[?limit=N], newest first.
func (h *Handler) listJobs(r *http.Request) (any, error) {
	limit := h.cfg.JobsLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("limit %q must be a positive number: %w", s, coordinator.ErrInvalid)
		}
		limit = min(n, limit)
	}
	jobs, err := h.src.ReadJobs(r.Context(), limit)
	if err != nil {
		return nil, err
	}
	out := jobsAnswer{Jobs: make([]jobView, 0, len(jobs))}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, newJobView(j, h.src))
	}
	return out, nil
}

// jobAnswer is GET /api/jobs/{id}.
type jobAnswer struct {
	Job   jobView    `json:"job"`
	Tasks []taskView `json:"tasks"`
}

// getJob answers GET /api/jobs/{id}: the job with its tasks.
func (h *Handler) getJob(r *http.Request) (any, error) {
	job, tasks, err := h.src.ReadJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	out := jobAnswer{Job: newJobView(job, h.src), Tasks: make([]taskView, 0, len(tasks))}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, newTaskView(t))
	}
	return out, nil
}

// agentsAnswer is GET /api/agents. On a follower Agents is empty, Leader
// false and LeaderAddress says which coordinator knows the agents.
type agentsAnswer struct {
	Leader        bool        `json:"leader"`
	LeaderAddress string      `json:"leader_address,omitempty"`
	Agents        []agentView `json:"agents"`
}

// listAgents answers GET /api/agents.
func (h *Handler) listAgents(r *http.Request) (any, error) {
	out := agentsAnswer{Agents: []agentView{}}
	agents, err := h.src.Agents(r.Context())
	switch {
	case errors.Is(err, coordinator.ErrNotLeader):
		addr, lerr := h.src.LeaderAddress(r.Context())
		if lerr != nil {
			return nil, lerr
		}
		out.LeaderAddress = addr
		return out, nil
	case err != nil:
		return nil, err
	}
	out.Leader = true
	for _, a := range agents {
		out.Agents = append(out.Agents, newAgentView(a))
	}
	return out, nil
}
