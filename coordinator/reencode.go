package coordinator

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// ReencodeAsset records a reencode job over an existing asset (see
// reencodeplan.go). The asset's last complete version is the newest
// succeeded job that made or changed it; its probe, options and kept
// tracks are copied into the new job, so nothing is probed or encoded
// again but the renditions asked for. Errors: an unknown asset is
// NotFound; a malformed request, an unknown --replace name, a name
// clash or an upscale is InvalidArgument; an asset with a job still
// running, or without a published version, is FailedPrecondition.
func (j *jobService) ReencodeAsset(ctx context.Context, req *v1.ReencodeAssetRequest) (*v1.ReencodeAssetResponse, error) {
	assetID := req.GetAssetId()
	if !ids.Valid(assetID) {
		return nil, toStatus(fmt.Errorf("asset id %q is malformed: %w", assetID, ErrInvalid))
	}
	if len(req.GetAdd()) == 0 && len(req.GetReplace()) == 0 {
		return nil, toStatus(fmt.Errorf("nothing to do: add or replace at least one rendition: %w", ErrInvalid))
	}
	if _, ok := v1.VideoCodec_name[int32(req.GetCodec())]; !ok {
		return nil, toStatus(fmt.Errorf("unknown codec %d: %w", req.GetCodec(), ErrInvalid))
	}
	base, err := j.reencodeBase(ctx, assetID)
	if err != nil {
		return nil, toStatus(err)
	}
	baseTasks, err := j.c.store.Tasks(ctx, base.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	kept, err := keptTasks(baseTasks)
	if err != nil {
		return nil, toStatus(err)
	}
	id := j.c.ids.New()
	renditions, replace, err := reencodeRenditions(req, base, keptRenditions(kept))
	if err != nil {
		return nil, toStatus(err)
	}
	if kept, err = dropReplaced(kept, replace); err != nil {
		return nil, toStatus(err)
	}
	now := timestamp(j.c.clock.Now())
	job := &v1.Job{
		Id:             id,
		State:          v1.JobState_JOB_STATE_QUEUED,
		Source:         base.GetSource(),
		Ladder:         base.GetLadder(),
		AssetId:        assetID,
		MaxAttempts:    base.GetMaxAttempts(),
		SegmentSeconds: base.GetSegmentSeconds(),
		Probe:          base.GetProbe(),
		Priority:       base.GetPriority(),
		AgentSelector:  base.GetAgentSelector(),
		StorageNode:    base.GetStorageNode(),
		Encode:         base.GetEncode(),
		CreatedAt:      now,
		UpdatedAt:      now,
		Preset:         base.GetPreset(),
		PresetVersion:  base.GetPresetVersion(),
		Reencode: &v1.ReencodeSpec{
			BaseJobId:  base.GetId(),
			Renditions: renditions,
			Replace:    sortedNames(replace),
			Kept:       kept,
		},
	}
	tasks := firstTasks(job)
	if len(tasks)+1 > maxTxnOps {
		return nil, toStatus(fmt.Errorf("the reencode would need %d tasks, more than one etcd transaction holds; use longer chunks: %w", len(tasks), ErrInvalid))
	}
	size := proto.Size(job)
	for _, t := range tasks {
		size += proto.Size(t)
	}
	if size > maxCreateBytes {
		return nil, toStatus(fmt.Errorf("the reencode's records take %d bytes, more than one etcd request holds (%d): %w", size, maxCreateBytes, ErrInvalid))
	}
	if err := j.c.store.CreateJob(ctx, job, tasks...); err != nil {
		return nil, toStatus(err)
	}
	j.c.log.Info("reencode submitted", "job", id, "asset", assetID, "base", base.GetId(), "renditions", len(renditions), "kept", len(kept))
	return &v1.ReencodeAssetResponse{Job: job}, nil
}

// maxCreateBytes bounds the job and task records a reencode creates in one
// etcd transaction, below etcd's default request limit (1.5 MiB). The kept
// tasks carry every kept segment's name, duration and size, twice (in the
// job record, from which the leader rebuilds the plan, and as task
// records), so a very long asset with many renditions can exceed it.
const maxCreateBytes = 1 << 20

// reencodeBase finds the asset's last complete version: the newest
// succeeded job (not transfer-only) that published to it. Any job of the
// asset still running refuses the change, since two versions built at
// once would each drop the other's renditions.
func (j *jobService) reencodeBase(ctx context.Context, assetID string) (*v1.Job, error) {
	jobs, err := j.c.store.ListJobs(ctx) // newest first
	if err != nil {
		return nil, err
	}
	if job := activeJobOf(jobs, assetID); job != nil {
		return nil, fmt.Errorf("asset %s: job %s is still %s; wait for it or cancel it: %w", assetID, job.GetId(), job.GetState(), ErrAssetBusy)
	}
	var base *v1.Job
	found := false
	for _, job := range jobs {
		if job.GetAssetId() != assetID {
			continue
		}
		found = true
		if base == nil && !job.GetTransferOnly() && job.GetState() == v1.JobState_JOB_STATE_SUCCEEDED {
			base = job
		}
	}
	switch {
	case !found:
		return nil, fmt.Errorf("asset %s: %w", assetID, ErrNotFound)
	case base == nil:
		return nil, fmt.Errorf("asset %s has no published version: %w", assetID, ErrAssetBusy)
	case !base.GetProbe().GetHasVideo():
		return nil, fmt.Errorf("asset %s has no video: %w", assetID, ErrInvalid)
	}
	return base, nil
}

// reencodeRenditions resolves the request against the asset: added
// renditions fitted to the source (a bare name is a ladder rung), and the
// replaced ones with their existing settings unless add names them too.
// It returns the renditions to encode and the set of replaced names.
func reencodeRenditions(req *v1.ReencodeAssetRequest, base *v1.Job, existing map[string]*v1.Rendition) ([]*v1.Rendition, map[string]bool, error) {
	replace := map[string]bool{}
	for _, n := range req.GetReplace() {
		if existing[n] == nil {
			return nil, nil, fmt.Errorf("replace: the asset has no rendition %q (it has %v): %w", n, sortedNames(existing), ErrInvalid)
		}
		replace[n] = true
	}
	var reqs []*v1.RenditionRequest
	for _, q := range req.GetAdd() {
		if q.GetHeight() == 0 && q.GetWidth() == 0 && q.GetVideoBitrate() == 0 {
			r, err := rungRequest(q, base.GetLadder(), req.GetCodec())
			if err != nil {
				return nil, nil, err
			}
			q = r
		}
		reqs = append(reqs, q)
	}
	if err := validateEncode(&v1.EncodeOptions{Renditions: reqs}); err != nil {
		return nil, nil, fmt.Errorf("add: %w", err)
	}
	probe := base.GetProbe()
	for i, q := range reqs {
		if q.GetHeight() > probe.GetHeight() || q.GetWidth() > probe.GetWidth() {
			return nil, nil, fmt.Errorf("add: rendition %d (%dx%d) is larger than the %dx%d source; renditions are never upscaled: %w",
				i+1, q.GetWidth(), q.GetHeight(), probe.GetWidth(), probe.GetHeight(), ErrInvalid)
		}
	}
	added, err := customRenditions(reqs, probe.GetWidth(), probe.GetHeight())
	if err != nil {
		return nil, nil, fmt.Errorf("add: %w", err)
	}
	var out []*v1.Rendition
	seen := map[string]bool{}
	for _, r := range added {
		if existing[r.GetName()] != nil && !replace[r.GetName()] {
			return nil, nil, fmt.Errorf("add: the asset already has a rendition %q; replace it or pick another name: %w", r.GetName(), ErrInvalid)
		}
		if r.GetCodec() == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
			r.Codec = req.GetCodec()
		}
		out = append(out, r)
		seen[r.GetName()] = true
	}
	for _, n := range sortedNames(replace) {
		if !seen[n] {
			out = append(out, proto.Clone(existing[n]).(*v1.Rendition))
		}
	}
	if n := len(existing) + len(out) - len(replace); n > maxRenditions {
		return nil, nil, fmt.Errorf("the asset would have %d renditions, at most %d: %w", n, maxRenditions, ErrInvalid)
	}
	for _, r := range out {
		if r.GetCodec() == v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
			r.Codec = v1.VideoCodec_VIDEO_CODEC_H264
		}
		if r.GetCodec() != v1.VideoCodec_VIDEO_CODEC_H264 {
			r.Profile, r.Level = "", ""
		}
	}
	return out, replace, nil
}

// rungRequest turns a bare rendition name into the request of the rung of
// that name, from the asset's ladder or else the default ladder. In a
// codec other than H.264 (the rendition's, else the request's) the name
// gets the codec as a suffix ("360p-av1"), so the rung can sit next to
// its H.264 twin.
func rungRequest(q *v1.RenditionRequest, ladder string, codec v1.VideoCodec) (*v1.RenditionRequest, error) {
	if q.GetCodec() != v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED {
		codec = q.GetCodec()
	}
	for _, l := range []string{ladder, "default"} {
		for _, r := range ladders[l] {
			if r.name != q.GetName() {
				continue
			}
			name := r.name
			if codec != v1.VideoCodec_VIDEO_CODEC_UNSPECIFIED && codec != v1.VideoCodec_VIDEO_CODEC_H264 {
				name += "-" + strings.ToLower(strings.TrimPrefix(codec.String(), "VIDEO_CODEC_"))
			}
			return &v1.RenditionRequest{Name: name, Height: r.height, VideoBitrate: r.bitrate, Codec: codec}, nil
		}
	}
	return nil, fmt.Errorf("add: %q is neither a rung of the %q or default ladder nor a size (WxH@KBPS): %w", q.GetName(), ladder, ErrInvalid)
}
