package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// runWatch follows a job (the WatchJob stream) until it ends, with
// progress bars on a terminal and plain lines otherwise (on stderr), then
// prints the outcome like `submit --wait`; the exit status is 1 unless the
// job succeeded.
func runWatch(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: vodfleet watch [--json] JOB")
	}
	conn, err := cf.sec.dial(cf.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, stop := signalContext()
	defer stop()
	if !cf.json {
		fmt.Fprintf(os.Stderr, "watching job %s\n", fs.Arg(0))
	}
	_, err = followJob(ctx, v1.NewJobServiceClient(conn), fs.Arg(0), cf.json, stdout, printOutcome)
	return err
}

// startedJob ends a command that created job (submit, transfer,
// reencode): without wait it prints the job's id (or the JSON job) and
// returns nil; with wait it says "KIND job ID submitted" on stderr and
// follows the job with followJob, returning the final job.
func startedJob(ctx context.Context, jobs v1.JobServiceClient, job *v1.Job, kind string, wait bool, cf *clientFlags, stdout io.Writer, text func(io.Writer, *v1.Job)) (*v1.Job, error) {
	if !wait {
		if cf.json {
			return nil, printJSON(stdout, jobJSON(job, nil))
		}
		fmt.Fprintln(stdout, job.GetId())
		return nil, nil
	}
	if !cf.json {
		fmt.Fprintf(os.Stderr, "%s %s submitted\n", kind, job.GetId())
	}
	return followJob(ctx, jobs, job.GetId(), cf.json, stdout, text)
}

// followJob watches job id to its end (progress on stderr unless asJSON),
// prints the outcome (the JSON job, or text) and returns the final job,
// with exit status 1 unless it succeeded. submit --wait, watch and
// transfer --wait end with it.
func followJob(ctx context.Context, jobs v1.JobServiceClient, id string, asJSON bool, stdout io.Writer, text func(io.Writer, *v1.Job)) (*v1.Job, error) {
	final, tasks, err := watch(ctx, jobs, id, !asJSON)
	if err != nil {
		return nil, err
	}
	if asJSON {
		if err := printJSON(stdout, jobJSON(final, tasks)); err != nil {
			return final, err
		}
	} else {
		text(stdout, final)
	}
	if final.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		return final, exitError{code: 1}
	}
	return final, nil
}
