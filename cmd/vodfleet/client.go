package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// clientFlags are shared by the client commands.
type clientFlags struct {
	coordinator string
	storage     string
	json        bool
	timeout     time.Duration
	sec         secFlags
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.coordinator, "coordinator", "127.0.0.1:7000", "coordinator gRPC address")
	fs.StringVar(&c.storage, "storage", "127.0.0.1:7001", "gRPC address of the storage node local sources are uploaded to (the job's asset goes to the same node)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "deadline for each request")
	c.sec.register(fs, secClient)
}

// withJobs dials the coordinator and calls f with a JobService client and a
// context bounded by --timeout.
func (c *clientFlags) withJobs(f func(ctx context.Context, jobs v1.JobServiceClient) error) error {
	conn, err := c.sec.dial(c.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	return f(ctx, v1.NewJobServiceClient(conn))
}

func runSubmit(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	cf.register(fs)
	wait := fs.Bool("wait", false, "wait for the job, showing progress, and print the playback URLs")
	ladder := fs.String("ladder", "", "ladder name (default, mobile)")
	attempts := fs.Int("max-attempts", 0, "attempts per task (0: coordinator default)")
	seg := fs.Float64("segment", 0, "segment duration in seconds (0: default 4)")
	prio := fs.String("priority", "normal", "scheduling class: high, normal, low")
	var selector labelFlag
	var hooks listFlag
	fs.Var(&hooks, "webhook", "URL receiving this job's state change events as signed POSTs (repeatable)")
	fs.Var(&selector, "require", "agent label every task needs, KEY=VALUE (repeatable), e.g. gpu=nvidia")
	specFile := fs.String("spec", "", "job file (JSON or YAML SubmitJobRequest, see README); flags override it")
	var ef encodeFlags
	ef.register(fs)
	title := fs.String("title", "", "asset title for the catalog")
	var tags stringList
	var meta labelFlag
	fs.Var(&tags, "tag", "asset tag for the catalog (repeatable)")
	fs.Var(&meta, "meta", "asset custom field KEY=VALUE for the catalog (repeatable)")
	preset := fs.String("preset", "", "stored preset to encode with (vodfleet preset list); flags override its fields")
	var dests listFlag
	fs.Var(&dests, "dest", "deliver the asset to this destination URL (s3, sftp, ftp, http(s), file) or stored destination name (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := &v1.SubmitJobRequest{}
	if *specFile != "" {
		var err error
		if req, err = loadSpec(*specFile); err != nil {
			return err
		}
	}
	if err := ef.apply(fs, req); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["priority"] || req.GetPriority() == v1.Priority_PRIORITY_UNSPECIFIED {
		pv, ok := v1.Priority_value["PRIORITY_"+strings.ToUpper(*prio)]
		if !ok {
			return fmt.Errorf("unknown priority %q (high, normal, low)", *prio)
		}
		req.Priority = v1.Priority(pv)
	}
	if set["ladder"] {
		req.Ladder = *ladder
	}
	if set["max-attempts"] {
		req.MaxAttempts = int32(*attempts)
	}
	if set["segment"] {
		req.SegmentSeconds = *seg
	}
	if len(selector.m) > 0 {
		req.AgentSelector = selector.m
	}
	if len(hooks) > 0 {
		req.WebhookUrls = hooks
	}
	if set["title"] {
		req.Title = *title
	}
	if len(tags) > 0 {
		req.Tags = tags
	}
	if len(meta.m) > 0 {
		req.Meta = meta.m
	}
	if set["preset"] {
		req.Preset = *preset
	}
	if len(dests) > 0 {
		req.Destinations = dests
	}
	var src *v1.Source
	var local string
	var err error
	switch {
	case fs.NArg() == 1:
		if src, local, err = sourceOf(fs.Arg(0)); err != nil {
			return err
		}
	case fs.NArg() == 0 && req.GetSource().GetUrl() != "":
		src = req.GetSource()
	default:
		return errors.New("usage: vodfleet submit [flags] [--spec FILE] SOURCE (a local file or an http(s) URL)")
	}
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	if local != "" {
		conn, err := cf.sec.dial(cf.storage)
		if err != nil {
			return err
		}
		defer conn.Close()
		uctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
		obj, err := storage.NewClient(conn).PutFile(uctx, src.GetStoragePath(), local, "")
		if err != nil {
			return fmt.Errorf("upload %s: %w", local, err)
		}
		// The job publishes to the node holding its source.
		src.StorageNode = obj.GetNode()
	}
	conn, err := cf.sec.dial(cf.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	jobs := v1.NewJobServiceClient(conn)
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	req.Source = src
	resp, err := jobs.SubmitJob(rctx, req)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	_, err = startedJob(ctx, jobs, resp.GetJob(), "job", *wait, &cf, stdout, printOutcome)
	return err
}

// sourceOf turns the SOURCE argument into a job source: a URL (http(s),
// s3, sftp, ftp; see urlSourceOf) as it is, or a local file, which must
// exist and be a regular file; it is uploaded to sources/ID/NAME.
func sourceOf(arg string) (*v1.Source, string, error) {
	if src, isURL, err := urlSourceOf(arg); isURL {
		return src, "", err
	}
	st, err := os.Stat(arg)
	if err != nil {
		return nil, "", fmt.Errorf("source %q: %w", arg, err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("source %q is not a regular file", arg)
	}
	if st.Size() == 0 {
		return nil, "", fmt.Errorf("source %q is empty", arg)
	}
	name := safeName(filepath.Base(arg))
	path := "sources/" + ids.TimeRandom{}.New() + "/" + name
	return &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}, DisplayName: filepath.Base(arg)}, arg, nil
}

// safeName keeps a file name usable as one storage path segment.
func safeName(n string) string {
	b := []byte(n)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		return "source"
	}
	return s
}

// watch follows a job until it ends, showing progress when show is set.
func watch(ctx context.Context, jobs v1.JobServiceClient, id string, show bool) (*v1.Job, []*v1.Task, error) {
	var p *progressView
	if show {
		p = stderrProgress(os.Stderr)
	}
	for attempt := 0; ; attempt++ {
		stream, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: id})
		if err != nil {
			return nil, nil, fmt.Errorf("watch: %w", err)
		}
		for {
			m, err := stream.Recv()
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				if attempt >= 10 {
					return nil, nil, fmt.Errorf("watch: %w", err)
				}
				break // reconnect: the coordinator may have restarted
			}
			if p != nil {
				p.update(m.GetJob(), m.GetTasks())
			}
			if isTerminal(m.GetJob().GetState()) {
				return m.GetJob(), m.GetTasks(), nil
			}
		}
		time.Sleep(time.Second)
	}
}

func isTerminal(s v1.JobState) bool {
	return s == v1.JobState_JOB_STATE_SUCCEEDED || s == v1.JobState_JOB_STATE_FAILED || s == v1.JobState_JOB_STATE_CANCELLED
}

func runJobs(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	cf.register(fs)
	state := fs.String("state", "", "only jobs in this state: queued, running, succeeded, failed, cancelled")
	limit := fs.Int("limit", 100, "at most this many jobs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var st v1.JobState
	if *state != "" {
		v, ok := v1.JobState_value["JOB_STATE_"+strings.ToUpper(*state)]
		if !ok {
			return fmt.Errorf("unknown state %q", *state)
		}
		st = v1.JobState(v)
	}
	var resp *v1.ListJobsResponse
	err := cf.withJobs(func(ctx context.Context, jobs v1.JobServiceClient) (err error) {
		resp, err = jobs.ListJobs(ctx, &v1.ListJobsRequest{State: st, Limit: int32(*limit)})
		return err
	})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if cf.json {
		out := make([]any, 0, len(resp.GetJobs()))
		for _, j := range resp.GetJobs() {
			out = append(out, jobJSON(j, nil))
		}
		return printJSON(stdout, out)
	}
	printJobTable(stdout, resp.GetJobs())
	return nil
}

func runStatus(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: vodfleet status [--json] JOB")
	}
	var resp *v1.GetJobResponse
	err := cf.withJobs(func(ctx context.Context, jobs v1.JobServiceClient) (err error) {
		resp, err = jobs.GetJob(ctx, &v1.GetJobRequest{JobId: fs.Arg(0)})
		return err
	})
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if cf.json {
		return printJSON(stdout, jobJSON(resp.GetJob(), resp.GetTasks()))
	}
	printJobDetail(stdout, resp.GetJob(), resp.GetTasks())
	return nil
}

func runCancel(args []string, stdout io.Writer) error {
	return jobAction(args, stdout, "cancel", func(ctx context.Context, jobs v1.JobServiceClient, id string) (*v1.Job, error) {
		resp, err := jobs.CancelJob(ctx, &v1.CancelJobRequest{JobId: id})
		return resp.GetJob(), err
	})
}

func runRetry(args []string, stdout io.Writer) error {
	return jobAction(args, stdout, "retry", func(ctx context.Context, jobs v1.JobServiceClient, id string) (*v1.Job, error) {
		resp, err := jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: id})
		return resp.GetJob(), err
	})
}

// jobAction runs a command of the form `vodfleet NAME [--json] JOB` that
// asks the coordinator to act on one job.
func jobAction(args []string, stdout io.Writer, name string, call func(context.Context, v1.JobServiceClient, string) (*v1.Job, error)) error {
	var cf clientFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: vodfleet %s [--json] JOB", name)
	}
	var job *v1.Job
	err := cf.withJobs(func(ctx context.Context, jobs v1.JobServiceClient) (err error) {
		job, err = call(ctx, jobs, fs.Arg(0))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if cf.json {
		return printJSON(stdout, jobJSON(job, nil))
	}
	fmt.Fprintf(stdout, "%s requested for job %s\n", name, job.GetId())
	return nil
}

// labelFlag collects repeated KEY=VALUE flags.
type labelFlag struct{ m map[string]string }

func (l *labelFlag) String() string { return fmt.Sprint(l.m) }

func (l *labelFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("label %q must be KEY=VALUE", s)
	}
	if l.m == nil {
		l.m = map[string]string{}
	}
	l.m[k] = v
	return nil
}
