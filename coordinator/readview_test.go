package coordinator

import (
	"context"
	"errors"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestReadViewsForTheDashboard(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	agents, err := h.c.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].ID != "a1" || agents[0].Slots != 4 || agents[0].Busy != 0 ||
		agents[0].State != "ready" || agents[0].Labels["encoder.libx264"] != "true" {
		t.Fatalf("agents before any lease: %+v", agents)
	}

	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source: &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetJob().GetId()
	probe := h.grants(1)["probe"]
	agents, err = h.c.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if agents[0].Busy != 1 || len(agents[0].Tasks) != 1 || agents[0].Tasks[0] != probe.GetTask().GetId() {
		t.Fatalf("agents with the probe leased: %+v", agents)
	}

	jobs, err := h.c.ReadJobs(ctx, 10)
	if err != nil || len(jobs) != 1 || jobs[0].GetId() != id {
		t.Fatalf("ReadJobs = %v, %v", jobs, err)
	}
	job, tasks, err := h.c.ReadJob(ctx, id)
	if err != nil || job.GetId() != id || len(tasks) != 1 || tasks[0].GetState() != v1.TaskState_TASK_STATE_RUNNING {
		t.Fatalf("ReadJob = %v, %v, %v", job, tasks, err)
	}
	if _, _, err := h.c.ReadJob(ctx, "../etc"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReadJob of a malformed id: %v, want ErrInvalid", err)
	}
	if _, _, err := h.c.ReadJob(ctx, "01a23c16212a6d158729"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadJob of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := h.c.ReadJobs(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReadJobs(0): %v, want ErrInvalid", err)
	}

	// A coordinator that does not lead has no sessions to show.
	if _, err := (&Coordinator{}).Agents(ctx); !errors.Is(err, ErrNotLeader) {
		t.Errorf("follower Agents: %v, want ErrNotLeader", err)
	}
	c := &Coordinator{cfg: Config{PlaybackBaseURL: "http://edge:8080/"}}
	if got := c.AssetURL("a1", "thumbs/poster.jpg"); got != "http://edge:8080/v/a1/thumbs/poster.jpg" {
		t.Errorf("AssetURL = %q", got)
	}
	if got := c.AssetURL("a1", ""); got != "" {
		t.Errorf("AssetURL without a path = %q, want empty", got)
	}
}
