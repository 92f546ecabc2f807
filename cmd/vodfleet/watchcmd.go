package main

import (
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
	final, tasks, err := watch(ctx, v1.NewJobServiceClient(conn), fs.Arg(0), !cf.json)
	if err != nil {
		return err
	}
	if cf.json {
		if err := printJSON(stdout, jobJSON(final, tasks)); err != nil {
			return err
		}
	} else {
		printOutcome(stdout, final)
	}
	if final.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		return exitError{code: 1}
	}
	return nil
}
