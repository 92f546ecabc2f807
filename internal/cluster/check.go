package cluster

import (
	"strings"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// CheckSucceeded asserts that every job SUCCEEDED with every task
// SUCCEEDED and published, and that no asset path received outputs from
// more than one attempt ("nothing published twice").
func (c *Cluster) CheckSucceeded(jobs map[string]*v1.GetJobResponse) {
	c.t.Helper()
	for id, r := range jobs {
		if r.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
			c.t.Errorf("job %s ended %s: %s", id, r.GetJob().GetState(), r.GetJob().GetError())
			continue
		}
		for _, tk := range r.GetTasks() {
			if tk.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED || !tk.GetPublished() {
				c.t.Errorf("job %s task %s is %s (published %v)", id, tk.GetName(), tk.GetState(), tk.GetPublished())
			}
		}
	}
	c.CheckPublishedOnce()
}

// CheckPublishedOnce asserts that each task published one attempt's
// outputs at most into each destination. Several tasks may share one (the
// chunks of a rendition, the tasks writing at the asset root); staging
// prefixes are "staging/{task}/{attempt}/".
func (c *Cluster) CheckPublishedOnce() {
	c.t.Helper()
	for to, froms := range c.Publishes() {
		byTask := map[string][]string{}
		for _, f := range froms {
			task, _, _ := strings.Cut(strings.TrimPrefix(f, "staging/"), "/")
			byTask[task] = append(byTask[task], f)
		}
		for task, fs := range byTask {
			if len(fs) > 1 {
				c.t.Errorf("task %s published into %s %d times, from %s", task, to, len(fs), strings.Join(fs, ", "))
			}
		}
	}
}

// MaxAttempt returns the highest attempt of any task of the jobs.
func MaxAttempt(jobs map[string]*v1.GetJobResponse) int32 {
	var m int32
	for _, r := range jobs {
		for _, tk := range r.GetTasks() {
			m = max(m, tk.GetAttempt())
		}
	}
	return m
}
