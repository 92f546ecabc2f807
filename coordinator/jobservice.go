package coordinator

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vodfleet/vodfleet/internal/ids"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// jobService implements v1.JobServiceServer on any coordinator: it writes
// new jobs and cancel requests to etcd and reads state from there; the
// leader does the rest.
type jobService struct {
	v1.UnimplementedJobServiceServer
	c *Coordinator
}

// SubmitJob validates and records a job.
func (j *jobService) SubmitJob(ctx context.Context, req *v1.SubmitJobRequest) (*v1.SubmitJobResponse, error) {
	presetVersion, err := j.c.applyPreset(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := validateSubmit(req, j.c.cfg.SourcePolicy()); err != nil {
		return nil, toStatus(err)
	}
	if err := validateEncode(req.GetEncode()); err != nil {
		return nil, toStatus(err)
	}
	ladder := req.GetLadder()
	if ladder == "" {
		ladder = "default"
	}
	seg := req.GetSegmentSeconds()
	if seg == 0 {
		seg = j.c.cfg.DefaultSegmentSeconds
	}
	id := j.c.ids.New()
	rec := catalogRecord(&v1.Job{Id: id, AssetId: id, Ladder: ladder, Preset: req.GetPreset(), PresetVersion: presetVersion}, req)
	if err := rec.CheckNew(); err != nil {
		return nil, toStatus(catalogErr(err))
	}
	dests, err := j.c.resolveDestinations(ctx, req.GetDestinations())
	if err != nil {
		return nil, toStatus(err)
	}
	node, err := j.c.placeAsset(id, req.GetSource())
	if err != nil {
		return nil, toStatus(err)
	}
	now := timestamp(j.c.clock.Now())
	job := &v1.Job{
		Id:             id,
		State:          v1.JobState_JOB_STATE_QUEUED,
		Source:         req.GetSource(),
		Ladder:         ladder,
		AssetId:        id,
		MaxAttempts:    req.GetMaxAttempts(),
		SegmentSeconds: seg,
		Priority:       effectivePriority(req.GetPriority()),
		AgentSelector:  req.GetAgentSelector(),
		StorageNode:    node,
		Encode:         req.GetEncode(),
		WebhookUrls:    req.GetWebhookUrls(),
		CreatedAt:      now,
		UpdatedAt:      now,
		Preset:         req.GetPreset(),
		PresetVersion:  presetVersion,
		Destinations:   dests,
	}
	// The asset record first: the leader's final write of it assumes it
	// exists, and a job is never left without one.
	if _, err := j.c.catalog.CreateAsset(ctx, rec); err != nil {
		return nil, toStatus(catalogErr(err))
	}
	if err := j.c.store.CreateJob(ctx, job, planProbe(job)); err != nil {
		if derr := j.c.catalog.DiscardAsset(context.WithoutCancel(ctx), id); derr != nil {
			j.c.log.Warn("cannot remove the record of an unrecorded job", "asset", id, "error", derr)
		}
		return nil, toStatus(err)
	}
	j.c.log.Info("job submitted", "job", id, "ladder", ladder)
	return &v1.SubmitJobResponse{Job: job}, nil
}

// validateSubmit rejects malformed submissions before anything is stored.
// A source URL must pass policy's CheckURL (the coordinator's
// SourcePolicy; without one, urlpolicy.Default(), which refuses every
// non-public address). That check is on the URL's form only; agents check
// the addresses a name resolves to when they connect.
func validateSubmit(req *v1.SubmitJobRequest, policy ...urlpolicy.Policy) error {
	src := req.GetSource()
	switch loc := src.GetLocation().(type) {
	case *v1.Source_StoragePath:
		p := loc.StoragePath
		if !strings.HasPrefix(p, "sources/") || strings.Contains(p, "..") || strings.ContainsAny(p, "\\\x00") {
			return fmt.Errorf("storage path %q must be under sources/: %w", p, ErrInvalid)
		}
	case *v1.Source_Url:
		p := urlpolicy.Default()
		if len(policy) > 0 {
			p = policy[0]
		}
		// The error names the problem but not the URL, which may carry a
		// signed query.
		if _, err := p.CheckURL(loc.Url); err != nil {
			return fmt.Errorf("source url refused: %w: %w", err, ErrInvalid)
		}
	default:
		return fmt.Errorf("source is required: %w", ErrInvalid)
	}
	if l := req.GetLadder(); l != "" {
		if _, ok := ladders[l]; !ok {
			return fmt.Errorf("unknown ladder %q (have %v): %w", l, LadderNames(), ErrInvalid)
		}
	}
	if a := req.GetMaxAttempts(); a < 0 || a > 20 {
		return fmt.Errorf("max attempts %d outside 0..20: %w", a, ErrInvalid)
	}
	if s := req.GetSegmentSeconds(); s != 0 && (s < 1 || s > 30) {
		return fmt.Errorf("segment duration %gs outside 1..30: %w", s, ErrInvalid)
	}
	if _, ok := v1.Priority_name[int32(req.GetPriority())]; !ok {
		return fmt.Errorf("priority %d is unknown: %w", req.GetPriority(), ErrInvalid)
	}
	if err := validateJobWebhooks(req.GetWebhookUrls(), policy...); err != nil {
		return err
	}
	if len(req.GetAgentSelector()) > 16 {
		return fmt.Errorf("agent selector has %d labels, at most 16: %w", len(req.GetAgentSelector()), ErrInvalid)
	}
	for k, v := range req.GetAgentSelector() {
		if !validLabel(k) || len(v) > 128 {
			return fmt.Errorf("agent selector label %q=%q is malformed: %w", k, v, ErrInvalid)
		}
	}
	return nil
}

// validLabel accepts label keys of 1-63 characters from [a-z0-9._/-].
func validLabel(k string) bool {
	if len(k) == 0 || len(k) > 63 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '/') {
			return false
		}
	}
	return true
}

// view completes a job read from etcd with derived fields.
func (j *jobService) view(job *v1.Job, tasks []*v1.Task) *v1.Job {
	job.Progress = jobProgress(job, tasks)
	job.EtaSeconds = jobETA(job, tasks, j.c.clock.Now())
	job.HlsUrl, job.DashUrl = playbackURLs(j.c.cfg.PlaybackBaseURL, job)
	job.HdsUrl = hdsURL(j.c.cfg.PlaybackBaseURL, job)
	job.DestinationStates = destinationStates(tasks)
	for i, u := range job.GetWebhookUrls() {
		job.WebhookUrls[i] = redactURL(u)
	}
	return job
}

// playbackURLs returns the edge URLs of a succeeded job's HLS master and
// DASH MPD ("" for what it lacks, or before it succeeded).
func playbackURLs(baseURL string, job *v1.Job) (hls, dash string) {
	if job.GetState() != v1.JobState_JOB_STATE_SUCCEEDED || baseURL == "" {
		return "", ""
	}
	base := strings.TrimSuffix(baseURL, "/") + "/v/" + job.GetAssetId() + "/"
	if job.GetHlsMaster() != "" {
		hls = base + job.GetHlsMaster()
	}
	if job.GetDashManifest() != "" {
		dash = base + job.GetDashManifest()
	}
	return hls, dash
}

// hdsURL returns the edge URL of a succeeded job's HDS manifest, or "".
func hdsURL(baseURL string, job *v1.Job) string {
	if job.GetState() != v1.JobState_JOB_STATE_SUCCEEDED || baseURL == "" || job.GetHdsManifest() == "" {
		return ""
	}
	return strings.TrimSuffix(baseURL, "/") + "/v/" + job.GetAssetId() + "/" + job.GetHdsManifest()
}

func (j *jobService) read(ctx context.Context, id string) (*v1.Job, []*v1.Task, error) {
	if !ids.Valid(id) {
		return nil, nil, fmt.Errorf("job id %q is malformed: %w", id, ErrInvalid)
	}
	job, err := j.c.store.GetJob(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tasks, err := j.c.store.Tasks(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if job.WebhookDeliveries, err = j.c.store.Deliveries(ctx, id); err != nil {
		return nil, nil, err
	}
	for _, d := range job.GetWebhookDeliveries() {
		d.Payload = nil
		d.Url = redactURL(d.GetUrl())
	}
	return j.view(job, tasks), tasks, nil
}

// GetJob returns a job and its tasks.
func (j *jobService) GetJob(ctx context.Context, req *v1.GetJobRequest) (*v1.GetJobResponse, error) {
	job, tasks, err := j.read(ctx, req.GetJobId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.GetJobResponse{Job: job, Tasks: tasks}, nil
}

// ListJobs returns jobs newest first.
func (j *jobService) ListJobs(ctx context.Context, req *v1.ListJobsRequest) (*v1.ListJobsResponse, error) {
	limit := int(req.GetLimit())
	if limit < 0 {
		return nil, toStatus(fmt.Errorf("limit %d is negative: %w", limit, ErrInvalid))
	}
	if limit == 0 {
		limit = 100
	}
	jobs, err := j.c.store.ListJobs(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*v1.Job, 0, min(limit, len(jobs)))
	for _, job := range jobs {
		if len(out) == limit {
			break
		}
		if req.GetState() != v1.JobState_JOB_STATE_UNSPECIFIED && job.GetState() != req.GetState() {
			continue
		}
		out = append(out, j.view(job, nil))
	}
	return &v1.ListJobsResponse{Jobs: out}, nil
}

// CancelJob records a cancel request; the leader stops the job's tasks.
func (j *jobService) CancelJob(ctx context.Context, req *v1.CancelJobRequest) (*v1.CancelJobResponse, error) {
	job, _, err := j.read(ctx, req.GetJobId())
	if err != nil {
		return nil, toStatus(err)
	}
	if isTerminal(job.GetState()) {
		return nil, toStatus(fmt.Errorf("job %s is %s: %w", job.GetId(), job.GetState(), ErrTerminal))
	}
	if err := j.c.store.RequestCancel(ctx, job.GetId()); err != nil {
		return nil, toStatus(err)
	}
	return &v1.CancelJobResponse{Job: job}, nil
}

// RetryJob records a retry request for a FAILED or CANCELLED job.
func (j *jobService) RetryJob(ctx context.Context, req *v1.RetryJobRequest) (*v1.RetryJobResponse, error) {
	job, _, err := j.read(ctx, req.GetJobId())
	if err != nil {
		return nil, toStatus(err)
	}
	if s := job.GetState(); s != v1.JobState_JOB_STATE_FAILED && s != v1.JobState_JOB_STATE_CANCELLED {
		return nil, toStatus(fmt.Errorf("job %s is %s; only failed or cancelled jobs can be retried: %w", job.GetId(), s, ErrNotRetryable))
	}
	if r := job.GetReencode(); r != nil {
		// Its manifests extend its base version: once the asset changed
		// (or while another job of it runs) they would drop that change.
		base, err := j.reencodeBase(ctx, job.GetAssetId())
		if err != nil {
			return nil, toStatus(err)
		}
		if base.GetId() != r.GetBaseJobId() {
			return nil, toStatus(fmt.Errorf("asset %s changed since (job %s); reencode it again instead: %w", job.GetAssetId(), base.GetId(), ErrNotRetryable))
		}
	}
	if err := j.c.store.RequestRetry(ctx, job.GetId()); err != nil {
		return nil, toStatus(err)
	}
	return &v1.RetryJobResponse{Job: job}, nil
}

// WatchJob sends the job whenever it or one of its tasks changes, ending
// after the terminal state.
func (j *jobService) WatchJob(req *v1.WatchJobRequest, stream v1.JobService_WatchJobServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	id := req.GetJobId()
	if !ids.Valid(id) {
		return toStatus(fmt.Errorf("job id %q is malformed: %w", id, ErrInvalid))
	}
	resp, err := j.c.cli.Get(ctx, j.c.store.keys.job(id))
	if err != nil {
		return toStatus(fmt.Errorf("watch %s: %w", id, err))
	}
	if len(resp.Kvs) == 0 {
		return toStatus(fmt.Errorf("job %s: %w", id, ErrNotFound))
	}
	from := clientv3.WithRev(resp.Header.Revision + 1)
	wctx := clientv3.WithRequireLeader(ctx)
	jobCh := j.c.cli.Watch(wctx, j.c.store.keys.job(id), from)
	taskCh := j.c.cli.Watch(wctx, j.c.store.keys.tasksOf(id), clientv3.WithPrefix(), from)
	hookCh := j.c.cli.Watch(wctx, j.c.store.keys.webhooksOf(id), clientv3.WithPrefix(), from)
	for {
		job, tasks, err := j.read(ctx, id)
		if err != nil {
			return toStatus(err)
		}
		if err := stream.Send(&v1.WatchJobResponse{Job: job, Tasks: tasks}); err != nil {
			return err
		}
		if isTerminal(job.GetState()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case wr, ok := <-jobCh:
			if !ok || wr.Err() != nil {
				return toStatus(fmt.Errorf("watch %s: %v: %w", id, wr.Err(), ErrNotLeader))
			}
		case wr, ok := <-taskCh:
			if !ok || wr.Err() != nil {
				return toStatus(fmt.Errorf("watch %s: %v: %w", id, wr.Err(), ErrNotLeader))
			}
		case wr, ok := <-hookCh:
			if !ok || wr.Err() != nil {
				return toStatus(fmt.Errorf("watch %s: %v: %w", id, wr.Err(), ErrNotLeader))
			}
		}
	}
}
