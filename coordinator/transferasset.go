package coordinator

import (
	"context"
	"fmt"

	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TransferAsset records a transfer-only job that pushes a finished asset
// to destinations again. Its transfer tasks read the asset from the
// storage node it was published to; Push skips files a destination
// already has with the same size, so a re-push sends only what is missing.
func (j *jobService) TransferAsset(ctx context.Context, req *v1.TransferAssetRequest) (*v1.TransferAssetResponse, error) {
	assetID := req.GetAssetId()
	if !ids.Valid(assetID) {
		return nil, toStatus(fmt.Errorf("asset id %q is malformed: %w", assetID, ErrInvalid))
	}
	if len(req.GetDestinations()) == 0 {
		return nil, toStatus(fmt.Errorf("at least one destination is required: %w", ErrInvalid))
	}
	dests, err := j.c.resolveDestinations(ctx, req.GetDestinations())
	if err != nil {
		return nil, toStatus(err)
	}
	// The asset's id is the id of the job that made it; that job says
	// where it lives and whether it is published.
	made, err := j.c.store.GetJob(ctx, assetID)
	if err != nil {
		return nil, toStatus(fmt.Errorf("asset %s: %w", assetID, err))
	}
	if made.GetTransferOnly() || made.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		return nil, toStatus(fmt.Errorf("asset %s is not ready (its job is %s): %w", assetID, made.GetState(), ErrInvalid))
	}
	id := j.c.ids.New()
	now := timestamp(j.c.clock.Now())
	job := &v1.Job{
		Id:            id,
		State:         v1.JobState_JOB_STATE_QUEUED,
		AssetId:       assetID,
		Priority:      effectivePriority(v1.Priority_PRIORITY_UNSPECIFIED),
		AgentSelector: made.GetAgentSelector(),
		StorageNode:   made.GetStorageNode(),
		CreatedAt:     now,
		UpdatedAt:     now,
		Destinations:  dests,
		TransferOnly:  true,
		Probe:         made.GetProbe(), // what the asset was made from; sizes the tasks' time limit
	}
	if err := j.c.store.CreateJob(ctx, job, firstTasks(job)...); err != nil {
		return nil, toStatus(err)
	}
	j.c.log.Info("transfer submitted", "job", id, "asset", assetID, "destinations", len(dests))
	return &v1.TransferAssetResponse{Job: job}, nil
}
