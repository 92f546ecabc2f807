package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	"github.com/vodfleet/vodfleet/internal/transfer"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Delivery to destinations: a job that names destinations gets one
// TRANSFER task per destination, depending on the package task. They run
// once the asset is published; the job ends SUCCEEDED when every transfer
// task ended, whether it delivered or failed: a failing destination fails
// only itself (its task, with the reason), never the asset or the other
// destinations. TransferAsset makes a transfer-only job that pushes an
// existing asset again.

// taskTransfer prefixes transfer task names: "transfer-01", "transfer-02",
// ... (two digits, so names sort in destination order).
const taskTransfer = "transfer"

// maxDestinations bounds the destinations of one job.
const maxDestinations = 16

// Destination states shown per destination (DestinationState.state and
// the catalog's AssetDestination.state).
const (
	destPending   = "PENDING"
	destRunning   = "RUNNING"
	destDone      = "DONE"
	destFailed    = "FAILED"
	destCancelled = "CANCELLED"
)

// resolveDestinations turns what a client gave (URLs, or names of stored
// destinations) into checked job destinations. A URL must be one
// transfer.CheckDestinationURL accepts, so secrets (passwords, signed
// queries) never reach the job record.
func (c *Coordinator) resolveDestinations(ctx context.Context, raw []string) ([]*v1.JobDestination, error) {
	if len(raw) > maxDestinations {
		return nil, fmt.Errorf("%d destinations, at most %d: %w", len(raw), maxDestinations, ErrInvalid)
	}
	out := make([]*v1.JobDestination, 0, len(raw))
	seen := map[string]bool{}
	for i, r := range raw {
		d := &v1.JobDestination{Url: r}
		if !strings.Contains(r, "://") {
			stored, err := c.catalog.GetDestination(ctx, r)
			if errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrInvalid) {
				return nil, fmt.Errorf("destination %d: %q is neither a URL nor a stored destination: %w", i+1, r, ErrInvalid)
			}
			if err != nil {
				return nil, fmt.Errorf("destination %q: %w", r, err)
			}
			d = &v1.JobDestination{Name: stored.GetName(), Url: stored.GetUrl(), Options: stored.GetOptions()}
		}
		// The error names the position, not the URL, which may hold a secret.
		if err := transfer.CheckDestinationURL(d.GetUrl()); err != nil {
			return nil, fmt.Errorf("destination %d refused: %w: %w", i+1, err, ErrInvalid)
		}
		if seen[d.GetUrl()] {
			return nil, fmt.Errorf("destination %d repeats an earlier one: %w", i+1, ErrInvalid)
		}
		seen[d.GetUrl()] = true
		out = append(out, d)
	}
	return out, nil
}

// planTransfers makes one TRANSFER task per destination of job, each
// depending on deps (the package task; none for a transfer-only job).
// The source duration sizes the agent's derived time limit (as for
// encodes), so a long film's package is not cut off at the minimum.
func planTransfers(job *v1.Job, sourceSeconds float64, deps ...string) []*v1.Task {
	var out []*v1.Task
	for i, d := range job.GetDestinations() {
		out = append(out, newTask(job, fmt.Sprintf("%s-%02d", taskTransfer, i+1), &v1.TaskSpec{
			Kind:                  v1.TaskKind_TASK_KIND_TRANSFER,
			Destination:           d,
			AssetId:               job.GetAssetId(),
			SourceDurationSeconds: sourceSeconds,
		}, deps...))
	}
	return out
}

// firstTasks are the tasks a new job is created with: its probe, or for
// a transfer-only job its transfer tasks, or for a reencode job its whole
// plan (kept tracks, new encodes, package).
func firstTasks(job *v1.Job) []*v1.Task {
	if job.GetTransferOnly() {
		return planTransfers(job, job.GetProbe().GetDurationSeconds())
	}
	if job.GetReencode() != nil {
		return planReencode(job)
	}
	return []*v1.Task{planProbe(job)}
}

func isTransfer(t *v1.Task) bool { return t.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_TRANSFER }

// hasTransfers reports whether a job delivers to destinations.
func hasTransfers(jr *jobRecord) bool { return len(jr.job.GetDestinations()) > 0 }

// deliverySettled reports whether a job's delivery is over: the asset is
// published (or the job only transfers) and every transfer task ended.
func deliverySettled(jr *jobRecord) bool {
	if !jr.job.GetTransferOnly() {
		pkg := jr.tasks[taskPackage]
		if pkg == nil || !pkg.task.GetPublished() {
			return false
		}
	}
	for _, tr := range jr.tasks {
		if isTransfer(tr.task) && !isTaskTerminal(tr.task.GetState()) {
			return false
		}
	}
	return true
}

// transferEnded records a transfer task that reached SUCCEEDED or FAILED
// and, when it was the last one, finishes the job SUCCEEDED: the asset is
// published whatever the destinations did.
func (l *leader) transferEnded(jr *jobRecord, tr *taskRecord) {
	w := l.taskWrite(jr.job.GetId(), tr)
	if deliverySettled(jr) {
		l.finishJob(jr, v1.JobState_JOB_STATE_SUCCEEDED, "", w)
		return
	}
	l.stage(w)
}

// transferred accepts a transfer task's success; nothing is staged, so
// there is nothing to publish.
func (l *leader) transferred(jr *jobRecord, tr *taskRecord, res *v1.TaskResult) {
	t := tr.task
	t.State = v1.TaskState_TASK_STATE_SUCCEEDED
	t.Result = res
	t.Progress = 1
	t.Error = ""
	t.Published = true
	t.BytesTotal = res.GetTransfer().GetBytesTotal()
	t.BytesDone = t.GetBytesTotal()
	l.log.Info("delivered", "task", t.GetId(), "destination", t.GetSpec().GetDestination().GetUrl(),
		"sent", res.GetTransfer().GetFilesSent(), "skipped", res.GetTransfer().GetFilesSkipped())
	l.transferEnded(jr, tr)
}

// destinationStates derives each destination's delivery state from the
// job's transfer tasks, in destination order.
func destinationStates(tasks []*v1.Task) []*v1.DestinationState {
	var xfers []*v1.Task
	for _, t := range tasks {
		if isTransfer(t) {
			xfers = append(xfers, t)
		}
	}
	sort.Slice(xfers, func(i, j int) bool { return xfers[i].GetName() < xfers[j].GetName() })
	var out []*v1.DestinationState
	for _, t := range xfers {
		out = append(out, &v1.DestinationState{
			Destination: t.GetSpec().GetDestination(),
			State:       destinationState(t.GetState()),
			Error:       t.GetError(),
			BytesDone:   t.GetBytesDone(),
			BytesTotal:  t.GetBytesTotal(),
			Attempts:    t.GetAttempt(),
		})
	}
	return out
}

// destinationState names a transfer task's state for clients.
func destinationState(s v1.TaskState) string {
	switch s {
	case v1.TaskState_TASK_STATE_RUNNING:
		return destRunning
	case v1.TaskState_TASK_STATE_SUCCEEDED:
		return destDone
	case v1.TaskState_TASK_STATE_FAILED:
		return destFailed
	case v1.TaskState_TASK_STATE_CANCELLED:
		return destCancelled
	default:
		return destPending
	}
}

// assetDestinations is the catalog form of a job's destination states.
func assetDestinations(tasks []*v1.Task) []*v1.AssetDestination {
	var out []*v1.AssetDestination
	for _, s := range destinationStates(tasks) {
		out = append(out, &v1.AssetDestination{Name: s.GetDestination().GetName(), Url: s.GetDestination().GetUrl(),
			State: s.GetState(), Error: s.GetError(), Bytes: s.GetBytesDone()})
	}
	return out
}

// repushCatalogWrites merges the destination states of a finishing
// transfer-only job into its asset's catalog facts: a destination with the
// same URL is replaced, a new one appended; nothing else of the record
// changes. The facts are read on the loop (one etcd round trip, as a
// retry's load). Two transfer-only jobs of one asset finishing in the same
// commit could lose one's merge; the job records keep both.
func (l *leader) repushCatalogWrites(jr *jobRecord) []write {
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	defer cancel()
	key := l.catalogKeys.Facts(jr.job.GetAssetId())
	resp, err := l.store.cli.Get(ctx, key)
	if err != nil || len(resp.Kvs) == 0 {
		l.log.Warn("re-push: asset record not updated", "asset", jr.job.GetAssetId(), "error", err)
		return nil
	}
	facts := &v1.Asset{}
	if err := proto.Unmarshal(resp.Kvs[0].Value, facts); err != nil {
		l.log.Warn("re-push: undecodable asset record", "asset", jr.job.GetAssetId(), "error", err)
		return nil
	}
	tasks := make([]*v1.Task, 0, len(jr.tasks))
	for _, tr := range jr.tasks {
		tasks = append(tasks, tr.task)
	}
	for _, d := range assetDestinations(tasks) {
		i := slices.IndexFunc(facts.GetDestinations(), func(o *v1.AssetDestination) bool { return o.GetUrl() == d.GetUrl() })
		if i >= 0 {
			facts.Destinations[i] = d
		} else {
			facts.Destinations = append(facts.Destinations, d)
		}
	}
	facts.UpdatedAt = timestamp(l.clock.Now())
	return []write{{key: key, msg: facts, expectRev: -1}}
}
