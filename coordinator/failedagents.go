package coordinator

import (
	"slices"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// maxFailedAgents bounds Task.FailedAgentIds: a task that failed on more
// agents than that has a problem no placement avoids.
const maxFailedAgents = 8

// noteFailedAgent records that the attempt of t on t.AgentId failed, so
// the scheduler prefers other agents for the retry: a stall or a full disk
// is often the agent's own trouble (a dying disk, a broken route to the
// origin) and the same agent would likely fail again. The oldest entry
// makes room when the list is full.
func noteFailedAgent(t *v1.Task) {
	id := t.GetAgentId()
	if id == "" || slices.Contains(t.GetFailedAgentIds(), id) {
		return
	}
	t.FailedAgentIds = append(t.FailedAgentIds, id)
	if n := len(t.FailedAgentIds); n > maxFailedAgents {
		t.FailedAgentIds = slices.Clone(t.FailedAgentIds[n-maxFailedAgents:])
	}
}

// failedOn counts the tasks of group whose attempts already failed on
// agent id.
func failedOn(id string, group []*taskRecord) int {
	n := 0
	for _, tr := range group {
		if slices.Contains(tr.task.GetFailedAgentIds(), id) {
			n++
		}
	}
	return n
}
