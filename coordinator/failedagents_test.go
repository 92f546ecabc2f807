package coordinator

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestPlanBatchRetriesOnAnotherAgent: a task that failed on agent a goes to
// b, although a would win every other tie-break (lower id, more free
// slots); when a is the only agent with room, the retry still runs there.
func TestPlanBatchRetriesOnAnotherAgent(t *testing.T) {
	a, b := agentSession("a", nil), agentSession("b", nil)
	q := queue("j", 2, nil)
	q.tasks[0].task.FailedAgentIds = []string{"a"}
	got := granted(planBatch([][]jobQueue{{q}}, map[*session]int{a: 4, b: 1}, 100))
	// j/0 avoids a; j/1 has no history and takes the freest agent.
	want := []string{"j/0@b", "j/1@a"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}

	q = queue("k", 1, nil)
	q.tasks[0].task.FailedAgentIds = []string{"a"}
	got = granted(planBatch([][]jobQueue{{q}}, map[*session]int{a: 2, b: 0}, 100))
	if fmt.Sprint(got) != "[k/0@a]" {
		t.Fatalf("only a has room: granted %v, want [k/0@a]", got)
	}

	// A task that failed on both goes where fewer of its group failed.
	q = queue("m", 1, nil)
	q.tasks[0].task.FailedAgentIds = []string{"b", "a"}
	got = granted(planBatch([][]jobQueue{{q}}, map[*session]int{a: 1, b: 2}, 100))
	if fmt.Sprint(got) != "[m/0@b]" {
		t.Fatalf("failed on both: granted %v, want [m/0@b] (most free slots)", got)
	}
}

// TestNoteFailedAgent keeps the list free of repeats and bounded.
func TestNoteFailedAgent(t *testing.T) {
	tk := &v1.Task{}
	noteFailedAgent(tk) // no agent: nothing to note
	for i := 0; i < maxFailedAgents+3; i++ {
		tk.AgentId = fmt.Sprintf("a%d", i)
		noteFailedAgent(tk)
		noteFailedAgent(tk)
	}
	ids := tk.GetFailedAgentIds()
	if len(ids) != maxFailedAgents || ids[0] != "a3" || ids[len(ids)-1] != fmt.Sprintf("a%d", maxFailedAgents+2) {
		t.Fatalf("failed agents %v", ids)
	}
}

// TestRetryFallsBackToTheFailedAgent: through the leader, a retryable
// failure is recorded on the task (persisted, visible in GetJob), and with
// a single agent connected the retry is granted to that agent anyway.
func TestRetryFallsBackToTheFailedAgent(t *testing.T) {
	h := newHarness(t)
	resp, err := h.jobs.SubmitJob(context.Background(), &v1.SubmitJobRequest{
		Source: &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}}})
	if err != nil {
		t.Fatal(err)
	}
	probe := h.grants(1)["probe"]
	h.fail(probe, "ffmpeg: stalled: no progress for 60s", true)
	h.clock.Advance(3 * time.Second) // past the retry backoff
	retry := h.grants(1)["probe"]
	if retry.GetAttempt() != 2 || retry.GetTask().GetAgentId() != "a1" {
		t.Fatalf("retry: attempt %d on %q", retry.GetAttempt(), retry.GetTask().GetAgentId())
	}
	tk := h.task(resp.GetJob().GetId(), "probe")
	if !slices.Equal(tk.GetFailedAgentIds(), []string{"a1"}) || tk.GetError() != "ffmpeg: stalled: no progress for 60s" {
		t.Fatalf("task after the failure: failed agents %v, error %q", tk.GetFailedAgentIds(), tk.GetError())
	}
}
