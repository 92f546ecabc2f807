package coordinator

import (
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// jobETA estimates the seconds until a running job is done. While tasks
// still wait, it extrapolates the job's own pace (time since submission
// over progress made); once every unfinished task runs, it is the longest
// ETA the agents report, which is sharper. 0 means unknown or done.
func jobETA(job *v1.Job, tasks []*v1.Task, now time.Time) float64 {
	if job.GetState() != v1.JobState_JOB_STATE_RUNNING {
		return 0
	}
	waiting, longest := false, 0.0
	for _, t := range tasks {
		switch t.GetState() {
		case v1.TaskState_TASK_STATE_PENDING:
			if t.GetSpec().GetKind() != v1.TaskKind_TASK_KIND_PACKAGE {
				waiting = true
			}
		case v1.TaskState_TASK_STATE_RUNNING:
			longest = max(longest, t.GetEtaSeconds())
		}
	}
	if !waiting && longest > 0 {
		return longest
	}
	p := job.GetProgress()
	elapsed := now.Sub(job.GetCreatedAt().AsTime()).Seconds()
	if p < 0.05 || p >= 1 || elapsed <= 0 {
		return 0
	}
	return elapsed * (1 - p) / p
}
