package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// thumbCue is one parsed cue of a WebVTT thumbnail track.
type thumbCue struct {
	start, end float64
	image      string
	x, y, w, h int
}

// parseVTTTime parses HH:MM:SS.mmm or MM:SS.mmm into seconds.
func parseVTTTime(t *testing.T, s string) float64 {
	t.Helper()
	var h, m, sec, ms int
	if _, err := fmt.Sscanf(s, "%d:%d:%d.%d", &h, &m, &sec, &ms); err != nil {
		h = 0
		if _, err := fmt.Sscanf(s, "%d:%d.%d", &m, &sec, &ms); err != nil {
			t.Fatalf("timestamp %q", s)
		}
	}
	return float64(h*3600+m*60+sec) + float64(ms)/1000
}

// parseThumbTrack parses a WebVTT thumbnail track.
func parseThumbTrack(t *testing.T, path string) []thumbCue {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || sc.Text() != "WEBVTT" {
		t.Fatalf("%s does not start with WEBVTT", path)
	}
	var cues []thumbCue
	for sc.Scan() {
		line := sc.Text()
		a, b, ok := strings.Cut(line, " --> ")
		if !ok {
			if line != "" {
				t.Fatalf("unexpected line %q", line)
			}
			continue
		}
		c := thumbCue{start: parseVTTTime(t, a), end: parseVTTTime(t, b)}
		if !sc.Scan() {
			t.Fatalf("cue %q without payload", line)
		}
		img, frag, ok := strings.Cut(sc.Text(), "#xywh=")
		if !ok {
			t.Fatalf("payload %q has no xywh fragment", sc.Text())
		}
		if _, err := fmt.Sscanf(frag, "%d,%d,%d,%d", &c.x, &c.y, &c.w, &c.h); err != nil {
			t.Fatalf("fragment %q: %v", frag, err)
		}
		c.image = img
		cues = append(cues, c)
	}
	return cues
}

func TestThumbnails(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 5})
	duration := probeMedia(t, src).seconds(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := testmedia.Logger(t, hclog.Debug)

	for _, tc := range []struct {
		name           string
		job            ThumbnailJob
		cols, rows, tw int
	}{
		// 3 tiles of 2 s (the last one short): one row of 3.
		{"defaults", ThumbnailJob{PosterAt: 2.5}, 3, 1, 160},
		// 10 tiles of 0.5 s in rows of 4; the poster time is clamped.
		{"grid", ThumbnailJob{PosterAt: 99, Interval: 0.5, TileWidth: 121, Columns: 4}, 4, 3, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.job
			j.Input, j.Whitelist, j.OutDir, j.Duration = src, "file", t.TempDir(), duration
			res, err := Thumbnails(ctx, log, bin, j)
			if err != nil {
				t.Fatal(err)
			}
			interval := j.Interval
			if interval == 0 {
				interval = DefaultThumbnailInterval
			}
			count := int(math.Ceil(duration / interval))
			if res.Count != count || res.Columns != tc.cols || res.Rows != tc.rows || res.TileWidth != tc.tw ||
				res.TileHeight != tc.tw*9/16/2*2 || res.Interval != interval {
				t.Errorf("result %+v, want %d tiles in %dx%d of width %d", res, count, tc.cols, tc.rows, tc.tw)
			}
			poster := probeMedia(t, filepath.Join(j.OutDir, res.Poster))
			if len(poster.Streams) != 1 || poster.Streams[0].Width != 320 || poster.Streams[0].Height != 180 ||
				res.PosterWidth != 320 || res.PosterHeight != 180 {
				t.Errorf("poster %+v, result %dx%d", poster.Streams, res.PosterWidth, res.PosterHeight)
			}
			sprite := probeMedia(t, filepath.Join(j.OutDir, res.Sprite))
			sw, sh := res.Columns*res.TileWidth, res.Rows*res.TileHeight
			if len(sprite.Streams) != 1 || sprite.Streams[0].Width != sw || sprite.Streams[0].Height != sh {
				t.Errorf("sprite %+v, want %dx%d", sprite.Streams, sw, sh)
			}

			cues := parseThumbTrack(t, filepath.Join(j.OutDir, res.Track))
			if len(cues) != count {
				t.Fatalf("%d cues, want %d", len(cues), count)
			}
			var end float64
			for i, c := range cues {
				if math.Abs(c.start-end) > 1e-9 || c.end <= c.start {
					t.Errorf("cue %d [%v, %v] does not follow %v", i, c.start, c.end, end)
				}
				end = c.end
				if c.image != SpriteName || c.w != res.TileWidth || c.h != res.TileHeight ||
					c.x < 0 || c.y < 0 || c.x+c.w > sw || c.y+c.h > sh ||
					c.x != i%res.Columns*c.w || c.y != i/res.Columns*c.h {
					t.Errorf("cue %d points at %s#xywh=%d,%d,%d,%d in a %dx%d sprite", i, c.image, c.x, c.y, c.w, c.h, sw, sh)
				}
			}
			if cues[0].start != 0 || math.Abs(end-duration) > 0.0005 {
				t.Errorf("cues cover [%v, %v], duration %v", cues[0].start, end, duration)
			}
		})
	}
}

func TestThumbnailPlan(t *testing.T) {
	// Two hours at the default interval would be 3600 tiles.
	p, err := planThumbnails(ThumbnailJob{Input: "x", OutDir: "d", Duration: 7200, PosterAt: 7300})
	if err != nil {
		t.Fatal(err)
	}
	if p.intervalMs != 72_000 || p.count != MaxThumbnailTiles || p.columns != 10 || p.rows != 10 ||
		p.tileWidth != DefaultTileWidth || p.posterAt != 7199.5 {
		t.Errorf("plan %+v", p)
	}
	// A duration just over a multiple gets one more, short, cue.
	p, _ = planThumbnails(ThumbnailJob{Input: "x", OutDir: "d", Duration: 10.001, PosterAt: -1})
	if p.count != 6 || p.columns != 6 || p.rows != 1 || p.posterAt != 0 {
		t.Errorf("plan %+v", p)
	}
	track := string(thumbnailTrack(p, 90))
	if !strings.HasSuffix(track, "\n00:00:10.000 --> 00:00:10.001\nsprite.jpg#xywh=800,0,160,90\n") {
		t.Errorf("track ends %q", track[len(track)-80:])
	}
	if got := vttTime(3_723_004); got != "01:02:03.004" {
		t.Errorf("vttTime = %q", got)
	}
	for _, j := range []ThumbnailJob{
		{OutDir: "d", Duration: 1},
		{Input: "x", Duration: 1},
		{Input: "x", OutDir: "d"},
		{Input: "x", OutDir: "d", Duration: math.NaN()},
		{Input: "x", OutDir: "d", Duration: 1, Interval: -1},
	} {
		if _, err := planThumbnails(j); !errors.Is(err, ErrBadJob) {
			t.Errorf("%+v: %v", j, err)
		}
	}
}
