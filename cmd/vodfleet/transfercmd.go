package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// destOut is the JSON shape of a destination's delivery state.
type destOut struct {
	Name       string `json:"name,omitempty"`
	URL        string `json:"url"`
	State      string `json:"state"`
	Error      string `json:"error,omitempty"`
	BytesDone  int64  `json:"bytes_done"`
	BytesTotal int64  `json:"bytes_total"`
	Attempts   int32  `json:"attempts"`
}

func destinationsJSON(states []*v1.DestinationState) []destOut {
	var out []destOut
	for _, s := range states {
		out = append(out, destOut{Name: s.GetDestination().GetName(), URL: s.GetDestination().GetUrl(),
			State: strings.ToLower(s.GetState()), Error: s.GetError(), BytesDone: s.GetBytesDone(),
			BytesTotal: s.GetBytesTotal(), Attempts: s.GetAttempts()})
	}
	return out
}

// printDestinations is the destination table of `status`.
func printDestinations(w io.Writer, states []*v1.DestinationState) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tNAME\tSTATE\tATTEMPTS\tBYTES\tERROR")
	for _, s := range states {
		name := s.GetDestination().GetName()
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d/%d\t%s\n", s.GetDestination().GetUrl(), name, strings.ToLower(s.GetState()),
			s.GetAttempts(), s.GetBytesDone(), s.GetBytesTotal(), s.GetError())
	}
	_ = tw.Flush()
}

// runTransfer pushes an existing asset to destinations again:
// vodfleet transfer [--wait] [--json] ASSET --dest URL|NAME [--dest ...].
func runTransfer(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("transfer", flag.ContinueOnError)
	cf.register(fs)
	var dests listFlag
	fs.Var(&dests, "dest", "destination URL (s3, sftp, ftp, http(s), file) or stored destination name (repeatable)")
	wait := fs.Bool("wait", false, "wait until every destination is done or failed; exit 1 if one failed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags may follow the asset (vodfleet transfer ASSET --dest URL).
	pos, err := positionalArgs(fs)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(dests) == 0 {
		return errors.New("usage: vodfleet transfer [--wait] [--json] ASSET --dest URL|NAME [--dest ...]")
	}
	asset := pos[0]
	conn, err := cf.sec.dial(cf.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	jobs := v1.NewJobServiceClient(conn)
	ctx, stop := signalContext()
	defer stop()
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	resp, err := jobs.TransferAsset(rctx, &v1.TransferAssetRequest{AssetId: asset, Destinations: dests})
	if err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	final, err := startedJob(ctx, jobs, resp.GetJob(), "transfer job", *wait, &cf, stdout, func(w io.Writer, j *v1.Job) {
		printDestinations(w, j.GetDestinationStates())
	})
	if err != nil || final == nil {
		return err
	}
	for _, s := range final.GetDestinationStates() {
		if s.GetState() != "DONE" {
			return exitError{code: 1}
		}
	}
	return nil
}
