package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// thumbsDir is the directory of the poster, the sprite and the thumbnail
// track inside the asset. The track refers to the sprite by its bare name,
// so the three stay side by side.
const thumbsDir = "thumbs"

// thumbnails makes the poster, the preview sprite and its WebVTT thumbnail
// track from the source (see ffmpeg.Thumbnails) and uploads them to staging
// as thumbs/poster.jpg, thumbs/sprite.jpg and thumbs/thumbnails.vtt; the
// leader publishes them at the asset root.
func (a *Agent) thumbnails(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	ts := spec.GetThumbnails()
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return nil, err
	}
	in, wl, err := a.source.input(ctx, st, spec.GetSource())
	if err != nil {
		return nil, err
	}
	out := filepath.Join(run.dir, thumbsDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	run.setProgress(0.05, 0)
	res, err := ffmpeg.Thumbnails(ctx, run.log, a.cfg.FFmpeg, ffmpeg.ThumbnailJob{
		Input: in, Whitelist: wl, OutDir: out,
		PosterAt:  ts.GetPosterSeconds(),
		Duration:  spec.GetSourceDurationSeconds(),
		Interval:  ts.GetIntervalSeconds(),
		TileWidth: int(ts.GetTileWidth()),
		Columns:   int(ts.GetColumns()),
		// Deinterlace: the parity the planner found, as for the encodes.
		Deinterlace: spec.GetDeinterlace(),
	})
	if err != nil {
		if errors.Is(err, ffmpeg.ErrBadJob) {
			err = fmt.Errorf("%w: %w", err, errPermanent)
		}
		return nil, err
	}
	run.setProgress(0.9, 0)
	rel := func(name string) string { return path.Join(thumbsDir, name) }
	names := []string{rel(res.Poster), rel(res.Sprite), rel(res.Track)}
	if err := a.upload(ctx, run, run.dir, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Thumbnails{Thumbnails: &v1.ThumbnailOutput{
		Poster: names[0], Sprite: names[1], Vtt: names[2],
		TileWidth: int32(res.TileWidth), TileHeight: int32(res.TileHeight),
		Columns: int32(res.Columns), Rows: int32(res.Rows), Count: int32(res.Count),
		IntervalSeconds: res.Interval,
	}}}, nil
}
