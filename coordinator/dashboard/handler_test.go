package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/coordinator/catalog"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// fakeSource is an in-memory Source.
type fakeSource struct {
	jobs     []*v1.Job
	tasks    map[string][]*v1.Task
	agents   []coordinator.AgentStatus
	follower bool
	// catalog is nil unless a test starts one (assets_test.go).
	catalog *catalog.Store
}

func (f *fakeSource) Catalog() *catalog.Store { return f.catalog }

func (f *fakeSource) ReadJobs(_ context.Context, limit int) ([]*v1.Job, error) {
	return f.jobs[:min(limit, len(f.jobs))], nil
}

func (f *fakeSource) ReadJob(_ context.Context, id string) (*v1.Job, []*v1.Task, error) {
	if strings.ContainsAny(id, "<>") {
		return nil, nil, fmt.Errorf("job id %q: %w", id, coordinator.ErrInvalid)
	}
	for _, j := range f.jobs {
		if j.GetId() == id {
			return j, f.tasks[id], nil
		}
	}
	return nil, nil, fmt.Errorf("job %s: %w", id, coordinator.ErrNotFound)
}

func (f *fakeSource) Agents(context.Context) ([]coordinator.AgentStatus, error) {
	if f.follower {
		return nil, coordinator.ErrNotLeader
	}
	return f.agents, nil
}

func (f *fakeSource) LeaderAddress(context.Context) (string, error) { return "10.0.0.1:7000", nil }

func (f *fakeSource) AssetURL(asset, path string) string {
	if path == "" {
		return ""
	}
	return "http://edge/v/" + asset + "/" + path
}

func newTestHandler(t *testing.T, src Source, cfg Config) *Handler {
	t.Helper()
	if cfg.Assets == nil {
		cfg.Assets = fstest.MapFS{
			"index.html": {Data: []byte("<!doctype html><title>vodfleet</title>")},
			"app.js":     {Data: []byte("console.log(1)")},
		}
	}
	h, err := New(src, cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func sampleSource() *fakeSource {
	done := &v1.Job{
		Id: "job2", State: v1.JobState_JOB_STATE_SUCCEEDED, AssetId: "job2", Progress: 1,
		Source: &v1.Source{Location: &v1.Source_Url{Url: "https://media.example/clip.mp4?sig=secret"}},
		HlsUrl: "http://edge/v/job2/master.m3u8", DashUrl: "http://edge/v/job2/manifest.mpd",
		Poster: "thumbs/poster.jpg", ThumbnailsVtt: "thumbs/thumbnails.vtt",
		Probe: &v1.ProbeResult{Width: 320, Height: 180, DurationSeconds: 4},
	}
	running := &v1.Job{
		Id: "job1", State: v1.JobState_JOB_STATE_RUNNING, AssetId: "job1", Progress: 0.4, EtaSeconds: 12,
		Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/x/a.mp4"}},
		Poster: "thumbs/poster.jpg",
	}
	return &fakeSource{
		jobs: []*v1.Job{done, running},
		tasks: map[string][]*v1.Task{"job1": {{
			Id: "job1.encode-180p", Name: "encode-180p", State: v1.TaskState_TASK_STATE_RUNNING,
			Spec: &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_VIDEO}, Attempt: 2, AgentId: "agent-1",
			Progress: 0.5, Fps: 90, Error: "earlier attempt: lease expired",
		}}},
		agents: []coordinator.AgentStatus{{ID: "agent-1", Slots: 2, Busy: 1, State: "ready",
			Labels: map[string]string{"encoder.libx264": "true"}, Tasks: []string{"job1.encode-180p"}}},
	}
}

func TestAPIListsJobsWithPlaybackURLsOnlyWhenDone(t *testing.T) {
	h := newTestHandler(t, sampleSource(), Config{})
	res, body := get(t, h, http.MethodGet, "/api/jobs")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/jobs: %d %s", res.StatusCode, body)
	}
	var got jobsAnswer
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Jobs) != 2 {
		t.Fatalf("jobs = %d, want 2: %s", len(got.Jobs), body)
	}
	d, r := got.Jobs[0], got.Jobs[1]
	if d.State != "succeeded" || d.PosterURL != "http://edge/v/job2/thumbs/poster.jpg" ||
		d.ThumbnailsURL != "http://edge/v/job2/thumbs/thumbnails.vtt" || d.HLSURL == "" || d.Width != 320 {
		t.Errorf("finished job view: %+v", d)
	}
	if strings.Contains(body, "secret") || d.Source != "https://media.example/clip.mp4" {
		t.Errorf("source query leaked or source wrong: %q", d.Source)
	}
	// Smooth Streaming is served by the edge from the DASH tracks.
	if d.SmoothURL != "http://edge/v/job2/manifest.ism/Manifest" {
		t.Errorf("smooth url %q", d.SmoothURL)
	}
	if r.State != "running" || r.Progress != 0.4 || r.ETASeconds != 12 || r.PosterURL != "" || r.SmoothURL != "" {
		t.Errorf("running job view: %+v", r)
	}

	_, body = get(t, h, http.MethodGet, "/api/jobs?limit=1")
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Jobs) != 1 {
		t.Errorf("limit=1 gave %s", body)
	}
	if res, _ := get(t, h, http.MethodGet, "/api/jobs?limit=x"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("limit=x: %d, want 400", res.StatusCode)
	}
}

func TestAPIJobWithTasksAndErrors(t *testing.T) {
	h := newTestHandler(t, sampleSource(), Config{})
	res, body := get(t, h, http.MethodGet, "/api/jobs/job1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/jobs/job1: %d %s", res.StatusCode, body)
	}
	var got jobAnswer
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Tasks) != 1 {
		t.Fatalf("tasks: %s", body)
	}
	tk := got.Tasks[0]
	if tk.Kind != "encode_video" || tk.State != "running" || tk.Attempt != 2 || tk.AgentID != "agent-1" || tk.Error == "" {
		t.Errorf("task view: %+v", tk)
	}
	for path, want := range map[string]int{
		"/api/jobs/nope":    http.StatusNotFound,
		"/api/jobs/%3Cx%3E": http.StatusBadRequest,
		"/api/nothing":      http.StatusNotFound,
	} {
		res, body := get(t, h, http.MethodGet, path)
		if res.StatusCode != want || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with a JSON error", path, res.StatusCode, body, want)
		}
	}
}

func TestAPIAgentsOnLeaderAndFollower(t *testing.T) {
	src := sampleSource()
	h := newTestHandler(t, src, Config{})
	_, body := get(t, h, http.MethodGet, "/api/agents")
	var got agentsAnswer
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Leader || len(got.Agents) != 1 || got.Agents[0].Busy != 1 || got.Agents[0].Slots != 2 ||
		got.Agents[0].Labels["encoder.libx264"] != "true" {
		t.Errorf("leader agents: %s", body)
	}
	src.follower = true
	res, body := get(t, h, http.MethodGet, "/api/agents")
	got = agentsAnswer{}
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("follower: %d %s", res.StatusCode, body)
	}
	if got.Leader || got.LeaderAddress != "10.0.0.1:7000" || len(got.Agents) != 0 {
		t.Errorf("follower agents: %s", body)
	}
}

func TestDashboardIsReadOnly(t *testing.T) {
	h := newTestHandler(t, sampleSource(), Config{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, p := range []string{"/", "/api/jobs", "/api/jobs/job1"} {
			if res, _ := get(t, h, m, p); res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, p, res.StatusCode)
			}
		}
	}
	if res, _ := get(t, h, http.MethodHead, "/api/jobs"); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD /api/jobs: %d", res.StatusCode)
	}
}

func TestAuthenticatorGuardsTheAPI(t *testing.T) {
	auth := func(r *http.Request) error {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			return nil
		case "Bearer agent":
			return fmt.Errorf("agents cannot read jobs: %w", ErrForbidden)
		default:
			return errors.New("no token")
		}
	}
	h := newTestHandler(t, sampleSource(), Config{Authenticate: auth})
	for token, want := range map[string]int{"": 401, "Bearer bad": 401, "Bearer agent": 403, "Bearer good": 200} {
		req := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("token %q: %d, want %d", token, rec.Code, want)
		}
		if want != 200 && strings.Contains(rec.Body.String(), "job1") {
			t.Errorf("token %q: refused answer carries data: %s", token, rec.Body.String())
		}
	}
	// The pages are static code without data and stay reachable.
	if res, _ := get(t, h, http.MethodGet, "/"); res.StatusCode != http.StatusOK {
		t.Errorf("GET / with an authenticator: %d", res.StatusCode)
	}
}

func TestPagesServeTheBundle(t *testing.T) {
	h := newTestHandler(t, sampleSource(), Config{})
	res, body := get(t, h, http.MethodGet, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "<title>vodfleet</title>") {
		t.Fatalf("GET /: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("index has no Content-Security-Policy")
	}
	if res, body := get(t, h, http.MethodGet, "/app.js"); res.StatusCode != http.StatusOK || body != "console.log(1)" {
		t.Errorf("GET /app.js: %d %q", res.StatusCode, body)
	}
	if res, _ := get(t, h, http.MethodGet, "/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /missing.js: %d", res.StatusCode)
	}
}

func TestPagesSayRunMakeWebWithoutBundle(t *testing.T) {
	h := newTestHandler(t, sampleSource(), Config{Assets: fstest.MapFS{".placeholder": {Data: []byte("x")}}})
	res, body := get(t, h, http.MethodGet, "/")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "make web") {
		t.Errorf("GET / without bundle: %d %s", res.StatusCode, body)
	}
	// The API works regardless.
	if res, _ := get(t, h, http.MethodGet, "/api/jobs"); res.StatusCode != http.StatusOK {
		t.Errorf("GET /api/jobs without bundle: %d", res.StatusCode)
	}
}
