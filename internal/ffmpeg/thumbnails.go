package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers the decoder image.DecodeConfig uses
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// ErrBadJob means the caller described a job ffmpeg cannot run (no input,
// no duration, no output directory). It is a planning bug, not a media or
// machine problem, so retrying the same job will not help.
var ErrBadJob = errors.New("bad ffmpeg job")

// File names Thumbnails writes inside ThumbnailJob.OutDir. The thumbnail
// track refers to the sprite by this relative name, so the three files must
// be published side by side.
const (
	// PosterName is the still image players show before playback.
	PosterName = "poster.jpg"
	// SpriteName is the sheet of preview tiles.
	SpriteName = "sprite.jpg"
	// ThumbnailTrackName is the WebVTT thumbnail track.
	ThumbnailTrackName = "thumbnails.vtt"
)

// Thumbnail defaults and limits.
const (
	// DefaultThumbnailInterval is the seconds between preview tiles when
	// ThumbnailJob.Interval is zero.
	DefaultThumbnailInterval = 2.0
	// MaxThumbnailTiles caps the tiles of one sprite: a longer source gets
	// a longer interval. It keeps the sprite a single download of a few
	// hundred kilobytes and far below JPEG's 65535 pixel limit.
	MaxThumbnailTiles = 100
	// DefaultTileWidth is the tile width in pixels when
	// ThumbnailJob.TileWidth is zero.
	DefaultTileWidth = 160
	// DefaultSpriteColumns is the tiles per sprite row when
	// ThumbnailJob.Columns is zero.
	DefaultSpriteColumns = 10
	// MaxPosterWidth bounds the poster width; narrower sources keep their
	// width.
	MaxPosterWidth = 1280
)

// ThumbnailJob describes the poster, sprite and thumbnail track of one
// source.
type ThumbnailJob struct {
	// Input is a local path or URL ffmpeg reads.
	Input string
	// Whitelist is the -protocol_whitelist for Input (see ProbeOptions).
	Whitelist string
	// OutDir receives PosterName, SpriteName and ThumbnailTrackName. It
	// must exist.
	OutDir string
	// PosterAt is the source time of the poster frame in seconds; it is
	// clamped inside the duration, away from the very end where a seek
	// may find no frame.
	PosterAt float64
	// Duration is the source duration in seconds (from Probe); the track
	// covers exactly [0, Duration].
	Duration float64
	// Interval is the seconds between tiles; zero means
	// DefaultThumbnailInterval. It is raised (to whole milliseconds) when
	// it would give more than MaxThumbnailTiles tiles.
	Interval float64
	// TileWidth is the tile width in pixels (rounded down to even); zero
	// means DefaultTileWidth. The height follows the display aspect ratio,
	// rounded to even.
	TileWidth int
	// Columns is the tiles per sprite row; zero means
	// DefaultSpriteColumns. A source with fewer tiles gets a single,
	// narrower row.
	Columns int
	// Deinterlace is the field parity of an interlaced source (see
	// VideoJob.Deinterlace), so the poster and tiles show no combing.
	Deinterlace string
}

// ThumbnailResult describes what Thumbnails wrote.
type ThumbnailResult struct {
	// Poster, Sprite and Track are the file names inside OutDir.
	Poster, Sprite, Track string
	// PosterWidth and PosterHeight are the poster's pixel size.
	PosterWidth, PosterHeight int
	// TileWidth and TileHeight are the pixel size of one tile.
	TileWidth, TileHeight int
	// Columns and Rows are the sprite's grid; the sprite is
	// Columns*TileWidth by Rows*TileHeight pixels.
	Columns, Rows int
	// Count is the number of tiles, which is also the number of cues.
	Count int
	// Interval is the seconds between tiles actually used.
	Interval float64
}

// thumbnailPlan is the layout derived from a ThumbnailJob.
type thumbnailPlan struct {
	intervalMs, durationMs int64
	count, columns, rows   int
	tileWidth              int
	posterAt               float64
}

// planThumbnails applies the defaults and limits of j.
func planThumbnails(j ThumbnailJob) (thumbnailPlan, error) {
	switch {
	case j.Input == "":
		return thumbnailPlan{}, fmt.Errorf("thumbnails: no input: %w", ErrBadJob)
	case j.OutDir == "":
		return thumbnailPlan{}, fmt.Errorf("thumbnails: no output directory: %w", ErrBadJob)
	case !(j.Duration > 0) || math.IsInf(j.Duration, 0):
		return thumbnailPlan{}, fmt.Errorf("thumbnails: duration %v: %w", j.Duration, ErrBadJob)
	case j.Interval < 0 || j.TileWidth < 0 || j.Columns < 0:
		return thumbnailPlan{}, fmt.Errorf("thumbnails: negative interval, tile width or columns: %w", ErrBadJob)
	}
	p := thumbnailPlan{durationMs: max(1, int64(math.Round(j.Duration*1000)))}

	interval := j.Interval
	if interval == 0 {
		interval = DefaultThumbnailInterval
	}
	p.intervalMs = max(1, int64(math.Round(interval*1000)))
	if tiles(p.durationMs, p.intervalMs) > MaxThumbnailTiles {
		p.intervalMs = (p.durationMs + MaxThumbnailTiles - 1) / MaxThumbnailTiles
	}
	p.count = tiles(p.durationMs, p.intervalMs)

	p.tileWidth = j.TileWidth
	if p.tileWidth == 0 {
		p.tileWidth = DefaultTileWidth
	}
	p.tileWidth = max(2, p.tileWidth&^1)
	cols := j.Columns
	if cols == 0 {
		cols = DefaultSpriteColumns
	}
	p.columns = min(cols, p.count)
	p.rows = (p.count + p.columns - 1) / p.columns

	// Keep the poster at least half a second (or half the clip) before
	// the end: a seek past the last frame writes nothing.
	p.posterAt = j.PosterAt
	if !(p.posterAt > 0) {
		p.posterAt = 0
	}
	p.posterAt = min(p.posterAt, j.Duration-min(0.5, j.Duration/2))
	return p, nil
}

// tiles is the number of intervalMs steps that start before durationMs.
func tiles(durationMs, intervalMs int64) int {
	return int((durationMs + intervalMs - 1) / intervalMs)
}

// Thumbnails writes a poster, a sprite of preview tiles (one every
// Interval seconds, starting at 0) and a WebVTT thumbnail track whose cue
// k covers [k*Interval, (k+1)*Interval) and points at tile k of the sprite
// with a media fragment ("sprite.jpg#xywh=x,y,w,h"), the format JW Player,
// video.js and Shaka read. One ffmpeg run decodes the source once for the
// sprite and seeks a second input for the poster.
//
// Errors: a bad job wraps ErrBadJob; ffmpeg failures are those of Run; an
// image ffmpeg did not write, or wrote with an unexpected size, wraps
// ErrFailed.
func Thumbnails(ctx context.Context, log hclog.Logger, bin string, j ThumbnailJob) (*ThumbnailResult, error) {
	p, err := planThumbnails(j)
	if err != nil {
		return nil, err
	}
	dir := outDir(j.OutDir)
	poster, sprite := dir+"/"+PosterName, dir+"/"+SpriteName
	for _, name := range []string{poster, sprite} {
		// A stale file from an earlier attempt must not pass as output.
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("thumbnails: %w", err)
		}
	}

	args := thumbnailArgs(j, p, poster, sprite)
	if err := Run(ctx, log.Named("thumbnails"), bin, args, nil); err != nil {
		return nil, err
	}

	pw, ph, err := jpegSize(poster)
	if err != nil {
		return nil, err
	}
	sw, sh, err := jpegSize(sprite)
	if err != nil {
		return nil, err
	}
	if sw != p.columns*p.tileWidth || sh%p.rows != 0 {
		return nil, fmt.Errorf("thumbnails: sprite is %dx%d, not a %dx%d grid of %d px wide tiles: %w",
			sw, sh, p.columns, p.rows, p.tileWidth, ErrFailed)
	}
	res := &ThumbnailResult{
		Poster: PosterName, Sprite: SpriteName, Track: ThumbnailTrackName,
		PosterWidth: pw, PosterHeight: ph,
		TileWidth: p.tileWidth, TileHeight: sh / p.rows,
		Columns: p.columns, Rows: p.rows, Count: p.count,
		Interval: float64(p.intervalMs) / 1000,
	}
	track := thumbnailTrack(p, res.TileHeight)
	if err := os.WriteFile(filepath.Join(j.OutDir, ThumbnailTrackName), track, 0o644); err != nil {
		return nil, fmt.Errorf("thumbnails: %w", err)
	}
	return res, nil
}

// thumbnailArgs are the ffmpeg arguments that write the poster and the
// sprite of plan p.
func thumbnailArgs(j ThumbnailJob, p thumbnailPlan, poster, sprite string) []string {
	// Input 0 feeds the sprite from the start; input 1 is seeked to the
	// poster frame. Heights follow the display aspect ratio (dar), so
	// anamorphic sources come out with square pixels.
	deint := deinterlaceFilter(j.Deinterlace)
	if deint != "" {
		deint += ","
	}
	args := inputArgs(j.Input, j.Whitelist)
	args = append(args, "-ss", num(p.posterAt))
	args = append(args, InputOptions(j.Whitelist, "")...)
	w := itoa(int64(p.tileWidth))
	args = append(args, "-i", j.Input,
		"-map", "1:v:0", "-frames:v", "1",
		"-vf", deint+"scale=w='min("+itoa(MaxPosterWidth)+",trunc(iw*sar/2)*2)':h='max(2,trunc(ow/dar/2)*2)',setsar=1",
		"-c:v", "mjpeg", "-q:v", "2", "-update", "1", "-f", "image2", poster,
		"-map", "0:v:0", "-frames:v", "1",
		// round=up shows, for tile k, the last frame at or before
		// k*Interval and yields exactly one frame per started interval.
		"-vf", deint+"fps=fps=1000/"+itoa(p.intervalMs)+":round=up,"+
			"scale=w="+w+":h='max(2,trunc("+w+"/dar/2)*2)',setsar=1,"+
			"tile="+itoa(int64(p.columns))+"x"+itoa(int64(p.rows)),
		"-c:v", "mjpeg", "-q:v", "5", "-update", "1", "-f", "image2", sprite,
		// A discarded copy of the video packets: the sprite is written
		// only at the end, so without it out_time would stand still for
		// the whole decode and the stall watchdog (see Run) could not
		// tell a long source from a hung one.
		"-map", "0:v:0", "-c", "copy", "-f", "null", "-",
	)
	return args
}

// thumbnailTrack renders the WebVTT thumbnail track of p with tiles
// tileHeight pixels high.
func thumbnailTrack(p thumbnailPlan, tileHeight int) []byte {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for k := range p.count {
		start := int64(k) * p.intervalMs
		end := min(start+p.intervalMs, p.durationMs)
		x, y := (k%p.columns)*p.tileWidth, (k/p.columns)*tileHeight
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n",
			vttTime(start), vttTime(end), SpriteName, x, y, p.tileWidth, tileHeight)
	}
	return []byte(b.String())
}

// vttTime formats milliseconds as a WebVTT timestamp, HH:MM:SS.mmm.
func vttTime(ms int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

// jpegSize returns the pixel size of the JPEG file at path; a missing or
// unreadable file wraps ErrFailed (ffmpeg exited cleanly without writing
// it, e.g. because the seek found no frame).
func jpegSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("thumbnails: %s not written: %w", filepath.Base(path), ErrFailed)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("thumbnails: read %s: %v: %w", filepath.Base(path), err, ErrFailed)
	}
	return cfg.Width, cfg.Height, nil
}
