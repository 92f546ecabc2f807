package dashboard

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/internal/smooth"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// The JSON the pages read. It is its own small schema rather than protojson
// of the gRPC messages, so the pages do not depend on proto field names
// and the API carries only what a person looks at.

// jobView is one job.
type jobView struct {
	ID         string  `json:"id"`
	State      string  `json:"state"`
	Progress   float64 `json:"progress"`
	ETASeconds float64 `json:"eta_seconds"`
	Error      string  `json:"error,omitempty"`
	Source     string  `json:"source"`
	Priority   string  `json:"priority"`
	CreatedAt  string  `json:"created_at,omitempty"`
	UpdatedAt  string  `json:"updated_at,omitempty"`
	AssetID    string  `json:"asset_id"`
	// Duration, Width and Height are from the probe, once known.
	Duration float64 `json:"duration_seconds,omitempty"`
	Width    int32   `json:"width,omitempty"`
	Height   int32   `json:"height,omitempty"`
	HLSURL   string  `json:"hls_url,omitempty"`
	DASHURL  string  `json:"dash_url,omitempty"`
	// SmoothURL is the Smooth Streaming manifest the edge derives from
	// the DASH MPD and its CMAF segments, so only assets with DASH have it.
	SmoothURL     string   `json:"smooth_url,omitempty"`
	PosterURL     string   `json:"poster_url,omitempty"`
	ThumbnailsURL string   `json:"thumbnails_url,omitempty"`
	MP4URLs       []string `json:"mp4_urls,omitempty"`
}

func newJobView(j *v1.Job, src Source) jobView {
	v := jobView{
		ID:         j.GetId(),
		State:      enumName(j.GetState().String(), "JOB_STATE_"),
		Progress:   j.GetProgress(),
		ETASeconds: j.GetEtaSeconds(),
		Error:      j.GetError(),
		Priority:   enumName(j.GetPriority().String(), "PRIORITY_"),
		CreatedAt:  timeString(j.GetCreatedAt()),
		UpdatedAt:  timeString(j.GetUpdatedAt()),
		AssetID:    j.GetAssetId(),
		Duration:   j.GetProbe().GetDurationSeconds(),
		Width:      j.GetProbe().GetWidth(),
		Height:     j.GetProbe().GetHeight(),
		HLSURL:     j.GetHlsUrl(),
		DASHURL:    j.GetDashUrl(),
	}
	switch s := j.GetSource().GetLocation().(type) {
	case *v1.Source_StoragePath:
		v.Source = s.StoragePath
	case *v1.Source_Url:
		// Only scheme, host and path: a signed query is a credential.
		v.Source, _, _ = strings.Cut(s.Url, "?")
	}
	if j.GetState() == v1.JobState_JOB_STATE_SUCCEEDED {
		if v.DASHURL != "" {
			v.SmoothURL = src.AssetURL(j.GetAssetId(), smooth.ManifestPath)
		}
		v.PosterURL = src.AssetURL(j.GetAssetId(), j.GetPoster())
		v.ThumbnailsURL = src.AssetURL(j.GetAssetId(), j.GetThumbnailsVtt())
		for _, p := range j.GetMp4() {
			if u := src.AssetURL(j.GetAssetId(), p); u != "" {
				v.MP4URLs = append(v.MP4URLs, u)
			}
		}
	}
	return v
}

// taskView is one task of a job.
type taskView struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	State      string  `json:"state"`
	Attempt    int32   `json:"attempt"`
	AgentID    string  `json:"agent_id,omitempty"`
	Progress   float64 `json:"progress"`
	FPS        float64 `json:"fps,omitempty"`
	Speed      float64 `json:"speed,omitempty"`
	ETASeconds float64 `json:"eta_seconds,omitempty"`
	Error      string  `json:"error,omitempty"`
	UpdatedAt  string  `json:"updated_at,omitempty"`
}

func newTaskView(t *v1.Task) taskView {
	return taskView{
		ID:         t.GetId(),
		Name:       t.GetName(),
		Kind:       enumName(t.GetSpec().GetKind().String(), "TASK_KIND_"),
		State:      enumName(t.GetState().String(), "TASK_STATE_"),
		Attempt:    t.GetAttempt(),
		AgentID:    t.GetAgentId(),
		Progress:   t.GetProgress(),
		FPS:        t.GetFps(),
		Speed:      t.GetSpeed(),
		ETASeconds: t.GetEtaSeconds(),
		Error:      t.GetError(),
		UpdatedAt:  timeString(t.GetUpdatedAt()),
	}
}

// agentView is one connected agent.
type agentView struct {
	ID     string            `json:"id"`
	Slots  int               `json:"slots"`
	Busy   int               `json:"busy"`
	State  string            `json:"state"`
	Labels map[string]string `json:"labels"`
	Tasks  []string          `json:"tasks"`
}

func newAgentView(a coordinator.AgentStatus) agentView {
	v := agentView{ID: a.ID, Slots: a.Slots, Busy: a.Busy, State: a.State, Labels: a.Labels, Tasks: a.Tasks}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if v.Tasks == nil {
		v.Tasks = []string{}
	}
	return v
}

// enumName turns JOB_STATE_RUNNING into "running".
func enumName(s, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s, prefix))
}

func timeString(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
