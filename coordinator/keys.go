package coordinator

// etcd key layout, all under Config.Prefix (default "/vodfleet"):
//
//	<prefix>/leader/<lease>       election keys (concurrency.Election); value: leader's advertise address
//	<prefix>/jobs/<job>           Job (binary proto), created by any coordinator, then written only by the leader
//	<prefix>/tasks/<job>/<task>   Task (binary proto), written only by the leader, fenced and CAS'd
//	<prefix>/cancel/<job>         cancel request, written by any coordinator, deleted by the leader
//	<prefix>/retry/<job>          retry request, written by any coordinator, deleted by the leader
//	<prefix>/webhooks/<job>/<id>  WebhookDelivery (binary proto): created by the leader in the fenced
//	                              transaction of the job state change it reports, then updated only by
//	                              the leader's deliverer (fenced, CAS on its own key, never the job's)
//
// Job ids sort by creation time (ids.TimeRandom), so a range over jobs/ lists
// jobs oldest first.
type keys struct{ prefix string }

func (k keys) leader() string                  { return k.prefix + "/leader" }
func (k keys) jobs() string                    { return k.prefix + "/jobs/" }
func (k keys) job(id string) string            { return k.jobs() + id }
func (k keys) tasksOf(jobID string) string     { return k.prefix + "/tasks/" + jobID + "/" }
func (k keys) task(jobID, name string) string  { return k.tasksOf(jobID) + name }
func (k keys) allTasks() string                { return k.prefix + "/tasks/" }
func (k keys) cancels() string                 { return k.prefix + "/cancel/" }
func (k keys) cancel(jobID string) string      { return k.cancels() + jobID }
func (k keys) retries() string                 { return k.prefix + "/retry/" }
func (k keys) retry(jobID string) string       { return k.retries() + jobID }
func (k keys) allWebhooks() string             { return k.prefix + "/webhooks/" }
func (k keys) webhooksOf(jobID string) string  { return k.allWebhooks() + jobID + "/" }
func (k keys) webhook(jobID, id string) string { return k.webhooksOf(jobID) + id }
