package coordinator

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Store reads and writes job and task records in etcd (see keys.go for the
// layout). Records are binary protos. Reads are open to every coordinator;
// task and job updates go through Apply with the leader's Fence.
type Store struct {
	cli  *clientv3.Client
	keys keys
	log  hclog.Logger
}

// NewStore returns a store over cli with the given key prefix.
func NewStore(cli *clientv3.Client, prefix string, log hclog.Logger) *Store {
	return &Store{cli: cli, keys: keys{prefix: prefix}, log: log.Named("store")}
}

// write is one put or delete in a fenced transaction. expectRev is the
// ModRevision the key must still have (0: must not exist; -1: unchecked).
type write struct {
	key       string
	msg       proto.Message // nil deletes the key
	expectRev int64
	// revs receive the transaction's revision (the key's new ModRevision)
	// once the write is committed.
	revs []*int64
}

// CreateJob records a new job together with its first tasks (the probe,
// or the transfer tasks of a transfer-only job),
// in one transaction; it fails with ErrConflict if the id exists. The
// leader picks both up from its watch, so a job costs it no write before
// the first lease.
func (s *Store) CreateJob(ctx context.Context, job *v1.Job, first ...*v1.Task) error {
	key := s.keys.job(job.GetId())
	data, err := proto.Marshal(job)
	if err != nil {
		return fmt.Errorf("marshal job: %w", err)
	}
	ops := []clientv3.Op{clientv3.OpPut(key, string(data))}
	for _, t := range first {
		tdata, err := proto.Marshal(t)
		if err != nil {
			return fmt.Errorf("marshal task: %w", err)
		}
		ops = append(ops, clientv3.OpPut(s.keys.task(job.GetId(), t.GetName()), string(tdata)))
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("create job %s: %w", job.GetId(), err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("job %s exists: %w", job.GetId(), ErrConflict)
	}
	return nil
}

// GetJob reads one job.
func (s *Store) GetJob(ctx context.Context, id string) (*v1.Job, error) {
	job, _, _, err := s.getJob(ctx, id)
	return job, err
}

// getJob reads one job with its ModRevision and the revision of the read.
func (s *Store) getJob(ctx context.Context, id string) (*v1.Job, int64, int64, error) {
	resp, err := s.cli.Get(ctx, s.keys.job(id))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("get job %s: %w", id, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, 0, fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	job, err := decodeJob(resp.Kvs[0])
	if err != nil {
		return nil, 0, 0, err
	}
	return job, resp.Kvs[0].ModRevision, resp.Header.Revision, nil
}

// decodeJob decodes a job record.
func decodeJob(kv *mvccpb.KeyValue) (*v1.Job, error) {
	job := &v1.Job{}
	if err := proto.Unmarshal(kv.Value, job); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", kv.Key, err)
	}
	return job, nil
}

// decodeTask decodes a task record.
func decodeTask(kv *mvccpb.KeyValue) (*v1.Task, error) {
	t := &v1.Task{}
	if err := proto.Unmarshal(kv.Value, t); err != nil {
		return nil, fmt.Errorf("decode task %s: %w", kv.Key, err)
	}
	return t, nil
}

// ListJobs returns all jobs, newest first.
func (s *Store) ListJobs(ctx context.Context) ([]*v1.Job, error) {
	resp, err := s.cli.Get(ctx, s.keys.jobs(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs := make([]*v1.Job, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		job, err := decodeJob(kv)
		if err != nil {
			s.log.Warn("skipping undecodable job record", "error", err)
			continue
		}
		jobs = append(jobs, job)
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].GetId() > jobs[j].GetId() })
	return jobs, nil
}

// Tasks returns the tasks of a job in plan order.
func (s *Store) Tasks(ctx context.Context, jobID string) ([]*v1.Task, error) {
	resp, err := s.cli.Get(ctx, s.keys.tasksOf(jobID), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", jobID, err)
	}
	tasks := make([]*v1.Task, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		t, err := decodeTask(kv)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	sortTasks(tasks)
	return tasks, nil
}

// RequestCancel records a cancel request for an existing job.
func (s *Store) RequestCancel(ctx context.Context, id string) error {
	return s.request(ctx, id, s.keys.cancel(id))
}

// RequestRetry records a retry request for an existing job.
func (s *Store) RequestRetry(ctx context.Context, id string) error {
	return s.request(ctx, id, s.keys.retry(id))
}

// request puts a request key for the leader if the job exists.
func (s *Store) request(ctx context.Context, id, key string) error {
	jobKey := s.keys.job(id)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(jobKey), ">", 0)).
		Then(clientv3.OpPut(key, "1")).Commit()
	if err != nil {
		return fmt.Errorf("request %s: %w", key, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	return nil
}

// apply runs writes in one transaction guarded by fence and by each write's
// expected revision. It returns the revision of the transaction, which is
// the new ModRevision of every key written.
func (s *Store) apply(ctx context.Context, fence Fence, writes ...write) (int64, error) {
	cmps := []clientv3.Cmp{fence.cmp()}
	ops := make([]clientv3.Op, 0, len(writes))
	for _, w := range writes {
		if w.expectRev >= 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.key), "=", w.expectRev))
		}
		if w.msg == nil {
			ops = append(ops, clientv3.OpDelete(w.key))
			continue
		}
		data, err := proto.Marshal(w.msg)
		if err != nil {
			return 0, fmt.Errorf("marshal %s: %w", w.key, err)
		}
		ops = append(ops, clientv3.OpPut(w.key, string(data)))
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, fmt.Errorf("fenced write: %w", err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("fenced write of %d keys: %w", len(writes), ErrConflict)
	}
	return resp.Header.Revision, nil
}

// snapshot is everything the leader loads when it takes over.
type snapshot struct {
	jobs    map[string]*jobRecord
	cancels map[string]bool
	retries map[string]bool
	rev     int64
}

// load reads all unfinished jobs with their tasks and pending cancels, at
// one revision so that watches can continue from it.
func (s *Store) load(ctx context.Context) (*snapshot, error) {
	jresp, err := s.cli.Get(ctx, s.keys.jobs(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	rev := jresp.Header.Revision
	tresp, err := s.cli.Get(ctx, s.keys.allTasks(), clientv3.WithPrefix(), clientv3.WithRev(rev))
	if err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	cancels, err := s.requests(ctx, s.keys.cancels(), rev)
	if err != nil {
		return nil, err
	}
	retries, err := s.requests(ctx, s.keys.retries(), rev)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{jobs: map[string]*jobRecord{}, cancels: cancels, retries: retries, rev: rev}
	for _, kv := range jresp.Kvs {
		job, err := decodeJob(kv)
		if err != nil {
			s.log.Warn("skipping undecodable job record", "error", err)
			continue
		}
		if isTerminal(job.GetState()) {
			continue
		}
		snap.jobs[job.GetId()] = &jobRecord{job: job, rev: kv.ModRevision, tasks: map[string]*taskRecord{}}
	}
	for _, kv := range tresp.Kvs {
		t, err := decodeTask(kv)
		if err != nil {
			return nil, err
		}
		if jr := snap.jobs[t.GetJobId()]; jr != nil {
			jr.tasks[t.GetName()] = &taskRecord{task: t, rev: kv.ModRevision}
		}
	}
	return snap, nil
}

// requests returns the job ids of the request keys (cancel or retry) under
// prefix at revision rev.
func (s *Store) requests(ctx context.Context, prefix string, rev int64) (map[string]bool, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", prefix, err)
	}
	ids := map[string]bool{}
	for _, kv := range resp.Kvs {
		ids[strings.TrimPrefix(string(kv.Key), prefix)] = true
	}
	return ids, nil
}

// loadJob reads one job and its tasks with their revisions, for the leader
// to take a finished job back (retry).
func (s *Store) loadJob(ctx context.Context, id string) (*jobRecord, error) {
	job, modRev, readRev, err := s.getJob(ctx, id)
	if err != nil {
		return nil, err
	}
	jr := &jobRecord{job: job, rev: modRev, tasks: map[string]*taskRecord{}}
	tresp, err := s.cli.Get(ctx, s.keys.tasksOf(id), clientv3.WithPrefix(), clientv3.WithRev(readRev))
	if err != nil {
		return nil, fmt.Errorf("load tasks of %s: %w", id, err)
	}
	for _, kv := range tresp.Kvs {
		t, err := decodeTask(kv)
		if err != nil {
			return nil, err
		}
		jr.tasks[t.GetName()] = &taskRecord{task: t, rev: kv.ModRevision}
	}
	return jr, nil
}

// Deliveries returns the webhook deliveries of a job, oldest first.
func (s *Store) Deliveries(ctx context.Context, jobID string) ([]*v1.WebhookDelivery, error) {
	resp, err := s.cli.Get(ctx, s.keys.webhooksOf(jobID), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries of %s: %w", jobID, err)
	}
	out := make([]*v1.WebhookDelivery, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		d := &v1.WebhookDelivery{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", kv.Key, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// pendingDeliveries reads, at revision rev, every delivery still PENDING,
// for a new leader to resume. (It scans all delivery records; finished
// ones stay for status until their job is deleted.)
func (s *Store) pendingDeliveries(ctx context.Context, rev int64) ([]*pendingDelivery, error) {
	resp, err := s.cli.Get(ctx, s.keys.allWebhooks(), clientv3.WithPrefix(), clientv3.WithRev(rev))
	if err != nil {
		return nil, fmt.Errorf("load webhook deliveries: %w", err)
	}
	var out []*pendingDelivery
	for _, kv := range resp.Kvs {
		d := &v1.WebhookDelivery{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			s.log.Warn("skipping undecodable webhook delivery", "key", string(kv.Key), "error", err)
			continue
		}
		if d.GetState() == v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING {
			out = append(out, &pendingDelivery{rec: d, rev: kv.ModRevision})
		}
	}
	return out, nil
}
