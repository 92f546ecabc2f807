package agent

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// fusionWindow is how long the first video encode of a chunk waits for
// its siblings (the other renditions of the same job and chunk, which the
// leader grants to one agent together) before starting ffmpeg.
const fusionWindow = 50 * time.Millisecond

// fusion runs the video encodes an agent holds for the same job and chunk
// in one ffmpeg process (ffmpeg.MultiVideoArgs): the source is decoded
// once for all of them instead of once per rendition. Each task keeps its
// own lease, output directory, progress, upload and completion; only the
// ffmpeg run is shared, under the first task's context. If that run fails
// or is cancelled, every task in it fails (and is retried like any
// failure); a task cancelled on its own stops waiting and the run goes on
// for the others.
type fusion struct {
	mu     sync.Mutex
	groups map[string]*fusedGroup // open for joining, by fusionKey
}

// fusedTask is one task's part of a fused run.
type fusedTask struct {
	run      *taskRun
	job      ffmpeg.VideoJob
	progress func(ffmpeg.Progress)
}

// fusedGroup is one shared ffmpeg run.
type fusedGroup struct {
	members []*fusedTask
	done    chan struct{}
	err     error
}

// runFunc runs ffmpeg with args (ffmpeg.Run in production).
type runFunc func(ctx context.Context, log hclog.Logger, args []string, onProgress func(ffmpeg.Progress)) error

// fusionKey groups tasks that can share a decode: same job, timeline
// slice (preroll included: AV1 chunks have none, see
// ffmpeg.HonoursForcedKeyframes), output frame rate and segment grid, and
// the same local input.
func fusionKey(g *v1.LeaseGrant, input string) string {
	s := g.GetTask().GetSpec()
	chunk := "-1"
	if c := s.GetChunk(); c != nil {
		chunk = strconv.Itoa(int(c.GetIndex()))
		if !ffmpeg.HonoursForcedKeyframes(s.GetRendition().GetCodec()) {
			chunk += "-nopre"
		}
	}
	return g.GetTask().GetJobId() + "|" + chunk + "|" +
		strconv.FormatFloat(s.GetFrameRate(), 'g', -1, 64) + "|" +
		strconv.FormatFloat(s.GetSegmentSeconds(), 'g', -1, 64) + "|" + input
}

// encode runs t's encode, fused with the siblings that join within
// fusionWindow, and returns when t's output directory is complete.
func (f *fusion) encode(ctx context.Context, key string, t *fusedTask, run runFunc) error {
	f.mu.Lock()
	if f.groups == nil {
		f.groups = map[string]*fusedGroup{}
	}
	if g := f.groups[key]; g != nil {
		g.members = append(g.members, t)
		f.mu.Unlock()
		select {
		case <-g.done:
			if g.err != nil {
				return fmt.Errorf("shared encode: %w", g.err)
			}
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	g := &fusedGroup{members: []*fusedTask{t}, done: make(chan struct{})}
	f.groups[key] = g
	f.mu.Unlock()

	timer := time.NewTimer(fusionWindow)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	f.mu.Lock()
	delete(f.groups, key)
	members := g.members
	f.mu.Unlock()
	defer close(g.done)
	if err := context.Cause(ctx); err != nil {
		g.err = err
		return err
	}
	jobs := make([]ffmpeg.VideoJob, len(members))
	for i, m := range members {
		jobs[i] = m.job
	}
	if len(members) > 1 {
		t.run.log.Info("encoding renditions in one ffmpeg run", "renditions", len(members))
	}
	g.err = run(ctx, t.run.log, ffmpeg.MultiVideoArgs(jobs), func(p ffmpeg.Progress) {
		for _, m := range members {
			m.progress(p)
		}
	})
	return g.err
}
