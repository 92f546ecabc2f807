package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/manifest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// subsDir is the directory of the WebVTT subtitle files inside the asset.
const subsDir = "subs"

// subtitles converts the text subtitle streams the spec lists to WebVTT
// files subs/<name>.vtt (see ffmpeg.ExtractSubtitles for the names) and
// uploads them to staging; the leader publishes them at the asset root.
// Bitmap and unknown formats are reported as skipped, and a spec without
// streams (or with none convertible) gives an empty result, not an error.
func (a *Agent) subtitles(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	var streams []ffmpeg.SubtitleStream
	titles := map[int]string{}
	convertible := false
	for _, s := range spec.GetSubtitles() {
		streams = append(streams, ffmpeg.SubtitleStream{Index: int(s.GetIndex()), Codec: s.GetCodec(), Language: s.GetLanguage()})
		titles[int(s.GetIndex())] = strings.TrimSpace(s.GetTitle())
		convertible = convertible || ffmpeg.TextSubtitleCodec(s.GetCodec())
	}
	in, wl := "", ""
	if convertible {
		// Only fetch the source when ffmpeg has something to do.
		st, err := a.stores.forGrant(run.grant)
		if err != nil {
			return nil, err
		}
		if in, wl, err = a.source.input(ctx, st, spec.GetSource()); err != nil {
			return nil, err
		}
	} else {
		in = "-" // never read: ExtractSubtitles runs nothing without text streams
	}
	out := filepath.Join(run.dir, subsDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	run.setProgress(0.05, 0)
	outs, err := ffmpeg.ExtractSubtitles(ctx, run.log, a.cfg.FFmpeg, in, wl, out, streams)
	if err != nil {
		if errors.Is(err, ffmpeg.ErrBadJob) {
			err = fmt.Errorf("%w: %w", err, errPermanent)
		}
		return nil, err
	}
	run.setProgress(0.9, 0)
	res := &v1.SubtitleOutput{}
	var names []string
	for i, o := range outs {
		if o.Name == "" {
			res.Skipped = append(res.Skipped, fmt.Sprintf("stream %d (%s): %s", o.Index, streams[i].Codec, o.Skipped))
			continue
		}
		p := path.Join(subsDir, o.Name)
		names = append(names, p)
		name := titles[o.Index]
		if name == "" {
			name = manifest.LanguageName(o.Language)
		}
		res.Tracks = append(res.Tracks, &v1.SubtitleTrack{Path: p, Language: o.Language, Name: name})
	}
	if err := a.upload(ctx, run, run.dir, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Subtitles{Subtitles: res}}, nil
}
