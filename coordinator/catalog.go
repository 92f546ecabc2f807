package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/vodfleet/vodfleet/coordinator/catalog"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// The coordinator's side of the catalog (coordinator/catalog): presets are
// resolved at submit, the record is created at submit, and the leader
// writes the pipeline part of the record (state, probe facts, renditions,
// outputs, sizes) in the same fenced transaction that finishes the job, so
// it is atomic with the job's terminal state and never needs re-applying.

// catalogErr turns a catalog validation error into this package's
// ErrInvalid (keeping the message that names the field).
func catalogErr(err error) error {
	if errors.Is(err, catalog.ErrInvalid) {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, ErrNotFound)
	}
	return err
}

// applyPreset copies a stored preset into req: its ladder, encode options
// and segment duration, with what the request sets taking precedence. It
// returns the preset's
// version; the job records name and version, and keeps the copy, so later
// edits of the preset never change the job or its asset.
func (c *Coordinator) applyPreset(ctx context.Context, req *v1.SubmitJobRequest) (int64, error) {
	if req.GetPreset() == "" {
		return 0, nil
	}
	p, err := c.catalog.GetPreset(ctx, req.GetPreset())
	if errors.Is(err, catalog.ErrNotFound) {
		return 0, fmt.Errorf("preset: %q is not stored: %w", req.GetPreset(), ErrInvalid)
	}
	if err != nil {
		return 0, catalogErr(err)
	}
	if req.GetLadder() == "" {
		req.Ladder = p.GetLadder()
	}
	if p.GetEncode() != nil {
		// The preset is the base; what the request sets wins (proto.Merge:
		// set scalars and optional fields overwrite, custom renditions
		// replace the preset's instead of adding to them).
		enc := proto.Clone(p.GetEncode()).(*v1.EncodeOptions)
		if len(req.GetEncode().GetRenditions()) > 0 {
			enc.Renditions = nil
		}
		if req.GetEncode() != nil {
			proto.Merge(enc, req.GetEncode())
		}
		req.Encode = enc
	}
	if req.GetSegmentSeconds() == 0 {
		req.SegmentSeconds = p.GetSegmentSeconds()
	}
	return p.GetVersion(), nil
}

// checkPreset validates a preset's encoding content with the rules of a
// submission; it is the catalog's PresetChecker.
func (c *Coordinator) checkPreset(p *v1.Preset) error {
	if l := p.GetLadder(); l != "" {
		if _, ok := ladders[l]; !ok {
			return fmt.Errorf("preset.ladder: unknown ladder %q (have %v): %w", l, LadderNames(), catalog.ErrInvalid)
		}
	}
	if err := validateEncode(p.GetEncode()); err != nil {
		return fmt.Errorf("preset.encode: %v: %w", err, catalog.ErrInvalid)
	}
	if s := p.GetSegmentSeconds(); s != 0 && (s < 1 || s > 30) {
		return fmt.Errorf("preset.segment_seconds: %g is outside 1..30: %w", s, catalog.ErrInvalid)
	}
	return nil
}

// assetInUse is the catalog's UseChecker: an error wrapping
// catalog.ErrBusy while a job of the asset (its first job, a reencode or a
// transfer) has not ended. It reads the job list, as a reencode request
// does; deletes are rare.
func (c *Coordinator) assetInUse(ctx context.Context, assetID string) error {
	jobs, err := c.store.ListJobs(ctx)
	if err != nil {
		return err
	}
	if j := activeJobOf(jobs, assetID); j != nil {
		return fmt.Errorf("asset %s is still used by job %s (%s); cancel the job or wait for it to end: %w",
			assetID, j.GetId(), strings.ToLower(strings.TrimPrefix(j.GetState().String(), "JOB_STATE_")), catalog.ErrBusy)
	}
	return nil
}

// activeJobOf returns a job of assetID in jobs that has not ended (its
// first job, a reencode or a transfer), or nil: while one runs the asset
// may not be deleted or changed.
func activeJobOf(jobs []*v1.Job, assetID string) *v1.Job {
	for _, j := range jobs {
		if j.GetAssetId() == assetID && !isTerminal(j.GetState()) {
			return j
		}
	}
	return nil
}

// catalogRecord is the client part of a new job's asset record.
func catalogRecord(job *v1.Job, req *v1.SubmitJobRequest) catalog.NewRecord {
	return catalog.NewRecord{ID: job.GetAssetId(), JobID: job.GetId(), Title: req.GetTitle(),
		Tags: req.GetTags(), Meta: req.GetMeta(), Preset: job.GetPreset(),
		PresetVersion: job.GetPresetVersion(), Ladder: job.GetLadder()}
}

// catalogWrites are the leader's writes of a finishing job's record: the
// pipeline part and its state index (put for the new state, deleted for
// the others). finishJob stages them with the job's terminal state.
func (l *leader) catalogWrites(jr *jobRecord) []write {
	tasks := make([]*v1.Task, 0, len(jr.tasks))
	for _, tr := range jr.tasks {
		tasks = append(tasks, tr.task)
	}
	facts := catalog.FactsFromJob(jr.job, tasks)
	facts.Destinations = assetDestinations(tasks)
	if base := l.cfg.PlaybackBaseURL; base != "" && facts.GetOutputs() != nil {
		base = strings.TrimSuffix(base, "/") + "/v/" + facts.GetId() + "/"
		if m := facts.GetOutputs().GetHlsMaster(); m != "" {
			facts.Outputs.HlsUrl = base + m
		}
		if m := facts.GetOutputs().GetDashManifest(); m != "" {
			facts.Outputs.DashUrl = base + m
		}
		if m := facts.GetOutputs().GetHdsManifest(); m != "" {
			facts.Outputs.HdsUrl = base + m
		}
	}
	k := l.catalogKeys
	ws := []write{{key: k.Facts(facts.GetId()), msg: facts, expectRev: -1}}
	put, del := k.StateKeys(facts.GetId(), facts.GetState())
	ws = append(ws, write{key: put, msg: &emptypb.Empty{}, expectRev: -1})
	for _, d := range del {
		ws = append(ws, write{key: d, expectRev: -1})
	}
	return ws
}
