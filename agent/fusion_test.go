package agent

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func fusedTaskFor(name string) *fusedTask {
	return &fusedTask{
		run:      &taskRun{log: hclog.NewNullLogger()},
		job:      ffmpeg.VideoJob{Input: "in.mp4", Rendition: &v1.Rendition{Name: name, Width: 320, Height: 180}, OutDir: "/tmp/" + name, SegmentSeconds: 2},
		progress: func(ffmpeg.Progress) {},
	}
}

// TestFusionSharesOneRun: siblings arriving within the window share one
// ffmpeg run with one output each; a later one gets a run of its own; a
// failed run fails every member.
func TestFusionSharesOneRun(t *testing.T) {
	var f fusion
	var runs atomic.Int32
	var outputs sync.Map
	run := func(_ context.Context, _ hclog.Logger, args []string, p func(ffmpeg.Progress)) error {
		runs.Add(1)
		outputs.Store(runs.Load(), strings.Count(strings.Join(args, " "), "-f hls"))
		p(ffmpeg.Progress{OutTime: time.Second})
		return nil
	}
	var wg sync.WaitGroup
	for _, n := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.encode(context.Background(), "job|0", fusedTaskFor(n), run); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("%d runs for three siblings, want 1", runs.Load())
	}
	if n, _ := outputs.Load(int32(1)); n != 3 {
		t.Fatalf("the shared run has %v HLS outputs, want 3", n)
	}
	if err := f.encode(context.Background(), "job|0", fusedTaskFor("d"), run); err != nil || runs.Load() != 2 {
		t.Fatalf("a later task: %v, runs %d", err, runs.Load())
	}

	boom := errors.New("ffmpeg died")
	fail := func(context.Context, hclog.Logger, []string, func(ffmpeg.Progress)) error { return boom }
	errs := make(chan error, 2)
	for _, n := range []string{"x", "y"} {
		go func() { errs <- f.encode(context.Background(), "job|1", fusedTaskFor(n), fail) }()
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("member of a failed run: %v", err)
		}
	}
}

// TestFusionKeySeparatesChunksWithoutPreroll: renditions of one chunk
// share a decode only when they seek to the same place. An AV1 chunk has
// no preroll (libsvtav1 ignores forced keyframes), so it does not join
// the H.264 renditions of the same chunk, which start a preroll earlier;
// unchunked encodes of both codecs still share one run.
func TestFusionKeySeparatesChunksWithoutPreroll(t *testing.T) {
	grant := func(codec v1.VideoCodec, chunk *v1.Chunk) *v1.LeaseGrant {
		return &v1.LeaseGrant{Task: &v1.Task{JobId: "j", Spec: &v1.TaskSpec{FrameRate: 25, SegmentSeconds: 2, Chunk: chunk,
			Rendition: &v1.Rendition{Codec: codec}}}}
	}
	c1 := &v1.Chunk{Index: 1}
	h264, hevc, av1 := v1.VideoCodec_VIDEO_CODEC_H264, v1.VideoCodec_VIDEO_CODEC_HEVC, v1.VideoCodec_VIDEO_CODEC_AV1
	if fusionKey(grant(h264, c1), "in") != fusionKey(grant(hevc, c1), "in") {
		t.Error("H.264 and HEVC renditions of one chunk do not share a run")
	}
	if fusionKey(grant(h264, c1), "in") == fusionKey(grant(av1, c1), "in") {
		t.Error("an AV1 chunk (no preroll) shares a run with H.264 renditions that seek a preroll earlier")
	}
	if fusionKey(grant(h264, nil), "in") != fusionKey(grant(av1, nil), "in") {
		t.Error("unchunked H.264 and AV1 renditions do not share a run")
	}
}
