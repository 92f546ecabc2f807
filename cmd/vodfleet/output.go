package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vodfleet/vodfleet/internal/smooth"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// jobOut is the JSON shape of a job for scripts; field names are stable.
type jobOut struct {
	JobID     string    `json:"job_id"`
	State     string    `json:"state"`
	Error     string    `json:"error"`
	Progress  float64   `json:"progress"`
	Source    string    `json:"source"`
	Ladder    string    `json:"ladder"`
	AssetID   string    `json:"asset_id"`
	HLSURL    string    `json:"hls_url"`
	DASHURL   string    `json:"dash_url"`
	HDSURL    string    `json:"hds_url,omitempty"`
	SmoothURL string    `json:"smooth_url,omitempty"`
	ETA       float64   `json:"eta_seconds"`
	MP4       []string  `json:"mp4,omitempty"`
	Poster    string    `json:"poster,omitempty"`
	Thumbs    string    `json:"thumbnails_vtt,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Tasks     []taskOut `json:"tasks,omitempty"`
	Webhooks  []hookOut `json:"webhooks,omitempty"`
	Dests     []destOut `json:"destinations,omitempty"`
}

// hookOut is the JSON shape of a webhook delivery.
type hookOut struct {
	ID         string     `json:"id"`
	Event      string     `json:"event"`
	URL        string     `json:"url"`
	State      string     `json:"state"`
	Attempts   int32      `json:"attempts"`
	StatusCode int32      `json:"last_status_code"`
	Error      string     `json:"last_error"`
	Next       *time.Time `json:"next_attempt_at,omitempty"`
}

// taskOut is the JSON shape of a task.
type taskOut struct {
	Name     string  `json:"name"`
	State    string  `json:"state"`
	Attempt  int32   `json:"attempt"`
	Agent    string  `json:"agent"`
	Progress float64 `json:"progress"`
	FPS      float64 `json:"fps"`
	Speed    float64 `json:"speed"`
	ETA      float64 `json:"eta_seconds"`
	Error    string  `json:"error"`
}

func stateName(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

func sourceName(s *v1.Source) string {
	if u := s.GetUrl(); u != "" {
		return u
	}
	if n := s.GetDisplayName(); n != "" {
		return n
	}
	return s.GetStoragePath()
}

func jobJSON(j *v1.Job, tasks []*v1.Task) jobOut {
	out := jobOut{
		JobID: j.GetId(), State: stateName(j.GetState(), "JOB_STATE_"), Error: j.GetError(),
		Progress: j.GetProgress(), Source: sourceName(j.GetSource()), Ladder: j.GetLadder(),
		AssetID: j.GetAssetId(), HLSURL: j.GetHlsUrl(), DASHURL: j.GetDashUrl(), HDSURL: j.GetHdsUrl(), SmoothURL: smoothURL(j), ETA: j.GetEtaSeconds(),
		MP4: j.GetMp4(), Poster: j.GetPoster(), Thumbs: j.GetThumbnailsVtt(),
		CreatedAt: j.GetCreatedAt().AsTime(), UpdatedAt: j.GetUpdatedAt().AsTime(),
	}
	for _, d := range j.GetWebhookDeliveries() {
		h := hookOut{ID: d.GetId(), Event: stateName(d.GetEvent(), "JOB_STATE_"), URL: d.GetUrl(),
			State: stateName(d.GetState(), "WEBHOOK_DELIVERY_STATE_"), Attempts: d.GetAttempts(),
			StatusCode: d.GetLastStatusCode(), Error: d.GetLastError()}
		if d.GetNextAttemptAt() != nil {
			t := d.GetNextAttemptAt().AsTime()
			h.Next = &t
		}
		out.Webhooks = append(out.Webhooks, h)
	}
	out.Dests = destinationsJSON(j.GetDestinationStates())
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, taskOut{
			Name: t.GetName(), State: stateName(t.GetState(), "TASK_STATE_"), Attempt: t.GetAttempt(),
			Agent: t.GetAgentId(), Progress: t.GetProgress(), FPS: t.GetFps(), Speed: t.GetSpeed(), ETA: t.GetEtaSeconds(), Error: t.GetError(),
		})
	}
	return out
}

// smoothURL is the Smooth Streaming manifest the edge serves for a job
// with DASH (derived from the MPD and its CMAF segments, see
// internal/smooth), "" without DASH.
func smoothURL(j *v1.Job) string {
	u, m := j.GetDashUrl(), j.GetDashManifest()
	if u == "" || m == "" || !strings.HasSuffix(u, m) {
		return ""
	}
	return strings.TrimSuffix(u, m) + smooth.ManifestPath
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printJobTable(w io.Writer, jobs []*v1.Job) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATE\tPROGRESS\tSOURCE\tCREATED\tERROR")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%3.0f%%\t%s\t%s\t%s\n", j.GetId(), stateName(j.GetState(), "JOB_STATE_"),
			100*j.GetProgress(), sourceName(j.GetSource()), j.GetCreatedAt().AsTime().Local().Format(time.DateTime), j.GetError())
	}
	_ = tw.Flush()
}

func printJobDetail(w io.Writer, j *v1.Job, tasks []*v1.Task) {
	fmt.Fprintf(w, "job:      %s\nstate:    %s\nprogress: %.0f%%\nsource:   %s\nladder:   %s\n",
		j.GetId(), stateName(j.GetState(), "JOB_STATE_"), 100*j.GetProgress(), sourceName(j.GetSource()), j.GetLadder())
	if j.GetTransferOnly() {
		fmt.Fprintf(w, "transfer: asset %s\n", j.GetAssetId())
	}
	if r := j.GetReencode(); r != nil {
		var names []string
		for _, rr := range r.GetRenditions() {
			names = append(names, rr.GetName())
		}
		fmt.Fprintf(w, "reencode: asset %s (from job %s): encodes %s", j.GetAssetId(), r.GetBaseJobId(), strings.Join(names, ", "))
		if len(r.GetReplace()) > 0 {
			fmt.Fprintf(w, "; replaces %s", strings.Join(r.GetReplace(), ", "))
		}
		fmt.Fprintln(w)
	}
	if j.GetError() != "" {
		fmt.Fprintf(w, "error:    %s\n", j.GetError())
	}
	if j.GetHlsUrl() != "" {
		fmt.Fprintf(w, "hls:      %s\ndash:     %s\n", j.GetHlsUrl(), j.GetDashUrl())
	}
	if j.GetHdsUrl() != "" {
		fmt.Fprintf(w, "hds:      %s\n", j.GetHdsUrl())
	}
	if len(tasks) > 0 {
		printTasks(w, tasks)
	}
	if len(j.GetDestinationStates()) > 0 {
		printDestinations(w, j.GetDestinationStates())
	}
	if len(j.GetWebhookDeliveries()) > 0 {
		printDeliveries(w, j.GetWebhookDeliveries())
	}
}

// printTasks is the task table of `status`.
func printTasks(w io.Writer, tasks []*v1.Task) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATE\tATTEMPT\tAGENT\tPROGRESS\tFPS\tSPEED\tETA\tERROR")
	for _, t := range tasks {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%3.0f%%\t%.0f\t%.1fx\t%s\t%s\n", t.GetName(), stateName(t.GetState(), "TASK_STATE_"),
			t.GetAttempt(), t.GetAgentId(), 100*t.GetProgress(), t.GetFps(), t.GetSpeed(), etaText(t.GetEtaSeconds()), t.GetError())
	}
	_ = tw.Flush()
}

// printDeliveries is the webhook table of `status`.
func printDeliveries(w io.Writer, ds []*v1.WebhookDelivery) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEBHOOK\tEVENT\tURL\tSTATE\tATTEMPTS\tSTATUS\tNEXT\tERROR")
	for _, d := range ds {
		next := "-"
		if d.GetNextAttemptAt() != nil {
			next = d.GetNextAttemptAt().AsTime().Local().Format(time.TimeOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.GetId(), stateName(d.GetEvent(), "JOB_STATE_"), d.GetUrl(),
			stateName(d.GetState(), "WEBHOOK_DELIVERY_STATE_"), d.GetAttempts(), d.GetLastStatusCode(), next, d.GetLastError())
	}
	_ = tw.Flush()
}

func printOutcome(w io.Writer, j *v1.Job) {
	switch j.GetState() {
	case v1.JobState_JOB_STATE_SUCCEEDED:
		fmt.Fprintf(w, "job %s succeeded\n", j.GetId())
		if j.GetHlsUrl() != "" {
			fmt.Fprintf(w, "HLS:  %s\n", j.GetHlsUrl())
		}
		if j.GetDashUrl() != "" {
			fmt.Fprintf(w, "DASH: %s\n", j.GetDashUrl())
		}
		if u := smoothURL(j); u != "" {
			fmt.Fprintf(w, "Smooth: %s\n", u)
		}
		if j.GetHdsUrl() != "" {
			fmt.Fprintf(w, "HDS:  %s\n", j.GetHdsUrl())
		}
		base := strings.TrimSuffix(strings.TrimSuffix(firstNonEmpty(j.GetHlsUrl(), j.GetDashUrl()), j.GetHlsMaster()), j.GetDashManifest())
		for _, m := range j.GetMp4() {
			fmt.Fprintf(w, "MP4:  %s%s\n", base, m)
		}
		if j.GetPoster() != "" {
			fmt.Fprintf(w, "Poster: %s%s\n", base, j.GetPoster())
		}
	default:
		fmt.Fprintf(w, "job %s %s: %s\n", j.GetId(), stateName(j.GetState(), "JOB_STATE_"), j.GetError())
	}
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// etaText formats seconds left as 1m05s, or "-" when unknown.
func etaText(sec float64) string {
	if sec <= 0 {
		return "-"
	}
	return (time.Duration(sec+0.5) * time.Second).String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
