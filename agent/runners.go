package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Names of the manifests a package task writes at the asset root, and of
// each track's media playlist.
const (
	masterName    = "master.m3u8"
	mpdName       = "manifest.mpd"
	mediaPlaylist = "media.m3u8"
)

// probe runs ffprobe on the source.
func (a *Agent) probe(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return nil, err
	}
	in, wl, err := a.source.input(ctx, st, spec.GetSource())
	if err != nil {
		return nil, err
	}
	res, err := ffmpeg.Probe(ctx, a.cfg.FFprobe, in, ffmpeg.ProbeOptions{Whitelist: wl})
	if err != nil {
		return nil, err
	}
	if res.GetHasVideo() && res.GetFieldOrder() == "" {
		// The header does not say whether the video is interlaced
		// (MPEG-4 Part 2 in AVI, FLV, ...): look at the pictures.
		if res.FieldOrder, err = ffmpeg.MeasureFieldOrder(ctx, a.cfg.FFmpeg, in, wl); err != nil {
			return nil, err
		}
		res.FieldOrderMeasured = true
		run.log.Info("measured field order with idet", "field_order", res.GetFieldOrder())
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: res}}, nil
}

// encode produces one track's CMAF segments and uploads them to staging.
func (a *Agent) encode(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return nil, err
	}
	in, wl, err := a.source.input(ctx, st, spec.GetSource())
	if err != nil {
		return nil, err
	}
	out := filepath.Join(run.dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	var args []string
	var vjob ffmpeg.VideoJob
	track := &v1.TrackOutput{FirstSegment: ffmpeg.FirstSegmentNumber}
	total := spec.GetSourceDurationSeconds()
	chunk := spec.GetChunk()
	if spec.GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
		r := spec.GetRendition()
		job := ffmpeg.VideoJob{Input: in, Whitelist: wl, Rendition: r, FrameRate: spec.GetFrameRate(), SegmentSeconds: spec.GetSegmentSeconds(), OutDir: out,
			HWAccel: a.hwFor(r.GetCodec()), Deinterlace: spec.GetDeinterlace()}
		if chunk != nil {
			job.Chunk = &ffmpeg.Chunk{Start: chunk.GetStartSeconds(), Duration: chunk.GetDurationSeconds(), FirstSegment: int(chunk.GetFirstSegment())}
			if chunk.GetIndex() > 0 && ffmpeg.HonoursForcedKeyframes(r.GetCodec()) {
				// Warm x264's rate control up on the second before the
				// chunk; that segment is dropped below.
				job.Chunk.Preroll = ffmpeg.ChunkPreroll(job.FrameRate, job.SegmentSeconds)
			}
			track.FirstSegment = chunk.GetFirstSegment()
			total = chunkLength(chunk, total) + job.Chunk.Preroll
		}
		vjob = job
		track.Codecs = ffmpeg.VideoCodecs(r)
		track.Width, track.Height, track.FrameRate = r.GetWidth(), r.GetHeight(), spec.GetFrameRate()
	} else {
		au := spec.GetAudio()
		args = ffmpeg.AudioArgs(ffmpeg.AudioJob{Input: in, Whitelist: wl, Audio: au, SegmentSeconds: spec.GetSegmentSeconds(), OutDir: out, StreamIndex: int(au.GetStreamIndex())})
		track.Codecs = ffmpeg.AACCodecs
		track.SampleRate, track.Channels, track.Language = au.GetSampleRate(), au.GetChannels(), au.GetLanguage()
	}
	video := spec.GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO
	progress := func(p ffmpeg.Progress) {
		fps := 0.0
		if video {
			fps = p.FPS // audio runs count copied video frames; not a speed
		}
		if total > 0 {
			done := min(p.OutTime.Seconds(), total)
			run.setProgress(done/total*0.95, fps)
			run.setSpeed(p.Speed, eta(total-done, p.Speed))
		}
	}
	if video {
		err = a.fusion.encode(ctx, fusionKey(run.grant, in), &fusedTask{run: run, job: vjob, progress: progress},
			func(ctx context.Context, log hclog.Logger, args []string, onProgress func(ffmpeg.Progress)) error {
				return ffmpeg.Run(ctx, log, a.cfg.FFmpeg, args, onProgress)
			})
	} else {
		err = ffmpeg.Run(ctx, run.log, a.cfg.FFmpeg, args, progress)
	}
	if err != nil {
		return nil, err
	}
	pl, err := os.ReadFile(filepath.Join(out, ffmpeg.PlaylistName))
	if err != nil {
		return nil, fmt.Errorf("read ffmpeg playlist: %w", err)
	}
	initName, segs, err := ffmpeg.ParseMediaPlaylist(pl)
	if err != nil {
		return nil, fmt.Errorf("parse ffmpeg playlist: %w", err)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("ffmpeg wrote no segments: %w", errPermanent)
	}
	if video {
		// Never published: the chunk's segments are those of an encode
		// without preroll.
		if segs, err = ffmpeg.DropPreroll(vjob, segs); err != nil {
			return nil, err
		}
	}
	track.InitName = initName
	track.Segments = segs
	var names []string
	if chunk.GetIndex() == 0 {
		// Every chunk writes the same init segment; the first uploads it.
		names = append(names, initName)
	}
	if err := measureSegments(out, track); err != nil {
		return nil, err
	}
	for _, s := range segs {
		names = append(names, s.GetName())
	}
	if err := a.upload(ctx, run, out, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Track{Track: track}}, nil
}

// upload sends files (slash paths relative to dir) to the lease's staging
// prefix, unless the disk they were written to is full (fullDisk).
// Staging is per (task, attempt), so a stale attempt can never overwrite
// what another attempt publishes.
func (a *Agent) upload(ctx context.Context, run *taskRun, dir string, names []string) error {
	if err := fullDisk(dir, nil); err != nil {
		// What ffmpeg wrote may be cut short (see fullDisk).
		return err
	}
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return err
	}
	prefix := run.grant.GetStagingPrefix()
	for _, n := range names {
		info, err := st.PutFile(ctx, prefix+n, filepath.Join(dir, filepath.FromSlash(n)), "")
		if err != nil {
			return fmt.Errorf("upload %s: %w", n, err)
		}
		a.metrics.uploadedBytes.Add(float64(info.GetSize()))
		a.metrics.uploadedObjects.Inc()
	}
	return nil
}
