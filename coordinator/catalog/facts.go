package catalog

import (
	"sort"

	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// FactsFromJob builds the pipeline part of a finished job's record from
// the job and its tasks: state, probe facts, renditions (chunks of one
// rendition summed; average bitrate = segment bytes over segment time), outputs and sizes.
func FactsFromJob(job *v1.Job, tasks []*v1.Task) *v1.Asset {
	a := &v1.Asset{Id: job.GetAssetId(), JobId: job.GetId(), Error: job.GetError(),
		CreatedAt: job.GetCreatedAt(), UpdatedAt: job.GetUpdatedAt()}
	if a.Id == "" {
		a.Id = job.GetId()
	}
	switch job.GetState() {
	case v1.JobState_JOB_STATE_SUCCEEDED:
		a.State = v1.AssetState_ASSET_STATE_READY
	case v1.JobState_JOB_STATE_FAILED:
		a.State = v1.AssetState_ASSET_STATE_FAILED
	case v1.JobState_JOB_STATE_CANCELLED:
		a.State = v1.AssetState_ASSET_STATE_CANCELLED
	default:
		a.State = v1.AssetState_ASSET_STATE_PROCESSING
	}
	if a.UpdatedAt == nil {
		a.UpdatedAt = timestamppb.Now()
	}
	if p := job.GetProbe(); p != nil {
		a.Source = &v1.SourceFacts{Container: p.GetFormatName(), VideoCodec: p.GetVideoCodec(),
			AudioCodec: p.GetAudioCodec(), DurationSeconds: p.GetDurationSeconds(), Width: p.GetWidth(),
			Height: p.GetHeight(), FrameRate: p.GetFrameRate(), AudioTracks: p.GetAudioStreams(), SizeBytes: p.GetSizeBytes()}
	}
	if a.State == v1.AssetState_ASSET_STATE_READY {
		a.Outputs = &v1.AssetOutputs{HlsMaster: job.GetHlsMaster(), DashManifest: job.GetDashManifest(),
			Mp4: job.GetMp4(), Poster: job.GetPoster(), ThumbnailsVtt: job.GetThumbnailsVtt(),
			HlsUrl: job.GetHlsUrl(), DashUrl: job.GetDashUrl(), HdsManifest: job.GetHdsManifest(), HdsUrl: job.GetHdsUrl()}
	}
	byName := map[string]*v1.AssetRendition{}
	seconds := map[string]float64{}
	for _, t := range tasks {
		if t.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED {
			continue
		}
		res := t.GetResult()
		if tr := res.GetTrack(); tr != nil {
			size, dur := int64(0), 0.0
			for _, s := range tr.GetSegments() {
				size += s.GetSize()
				dur += s.GetDurationSeconds()
			}
			a.SizeBytes += size
			if t.GetSpec().GetKind() != v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
				continue
			}
			name := t.GetSpec().GetRendition().GetName()
			r := byName[name]
			if r == nil {
				r = &v1.AssetRendition{Name: name, Width: tr.GetWidth(), Height: tr.GetHeight(), Codecs: tr.GetCodecs()}
				byName[name] = r
			}
			r.SizeBytes += size
			seconds[name] += dur
		}
		if m := res.GetMux(); m != nil {
			a.SizeBytes += m.GetMp4Size() + m.GetHds().GetSizeBytes()
		}
	}
	for name, r := range byName {
		if seconds[name] > 0 {
			r.AverageBitrate = int64(float64(r.GetSizeBytes()) * 8 / seconds[name])
		}
		a.Renditions = append(a.Renditions, r)
	}
	sort.Slice(a.Renditions, func(i, j int) bool {
		if a.Renditions[i].GetHeight() != a.Renditions[j].GetHeight() {
			return a.Renditions[i].GetHeight() > a.Renditions[j].GetHeight()
		}
		return a.Renditions[i].GetName() < a.Renditions[j].GetName()
	})
	return a
}
