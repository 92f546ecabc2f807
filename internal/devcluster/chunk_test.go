package devcluster

import (
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// submitEncode uploads local and submits it with the given encode options
// and segment duration.
func submitEncode(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, st *storage.Client, local string, seg float64, enc *v1.EncodeOptions) *v1.Job {
	t.Helper()
	path := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/" + filepath.Base(local)
	if _, err := st.PutFile(ctx, path, local, ""); err != nil {
		t.Fatalf("upload: %v", err)
	}
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source:         &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}},
		SegmentSeconds: seg,
		Encode:         enc,
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return resp.GetJob()
}

// videoFrames decodes the first video stream of url and returns the
// presentation time of every frame in seconds, in output order.
func videoFrames(t *testing.T, url string) []float64 {
	t.Helper()
	frames, _ := decodeFrames(t, url, "0:v:0")
	pts := make([]float64, len(frames))
	for i, f := range frames {
		pts[i] = f.pts
	}
	return pts
}

// TestChunkedEncodeIsSeamless encodes a 20 s clip in 4 s chunks (2 s
// segments) on two agents and checks, by decoding through the edge across
// every chunk boundary, that the chunked rendition has exactly the frames
// of the source and of an unchunked encode, at a constant step, with no
// discontinuity; and that DASH over the same segments decodes as long.
func TestChunkedEncodeIsSeamless(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 20, Rate: 30})
	srcFrames := videoFrames(t, clip)
	opts := func(chunk float64) *v1.EncodeOptions {
		return &v1.EncodeOptions{
			ChunkSeconds: chunk,
			Renditions:   []*v1.RenditionRequest{{Height: 180, VideoBitrate: 300_000}},
			Outputs:      &v1.Outputs{Thumbnails: proto.Bool(false)},
		}
	}
	chunked := submitEncode(t, ctx, jobs, st, clip, 2, opts(4))
	whole := submitEncode(t, ctx, jobs, st, clip, 2, opts(-1))
	got := map[string]*v1.WatchJobResponse{}
	for _, id := range []string{chunked.GetId(), whole.GetId()} {
		got[id] = waitJob(t, ctx, jobs, id)
		if s := got[id].GetJob().GetState(); s != v1.JobState_JOB_STATE_SUCCEEDED {
			t.Fatalf("job %s ended %s: %s", id, s, got[id].GetJob().GetError())
		}
	}
	var chunkTasks []string
	agents := map[string]bool{}
	for _, tk := range got[chunked.GetId()].GetTasks() {
		if tk.GetSpec().GetChunk() != nil {
			chunkTasks = append(chunkTasks, tk.GetName())
			agents[tk.GetAgentId()] = true
		}
	}
	if len(chunkTasks) != 5 {
		t.Fatalf("chunk tasks %v, want 5", chunkTasks)
	}
	t.Logf("chunks %v ran on agents %v", chunkTasks, agents)

	base := c.EdgeURL() + "/v/"
	media := base + chunked.GetAssetId() + "/v180p/media.m3u8"
	resp, err := http.Get(media)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(pl), "DISCONTINUITY") || strings.Count(string(pl), ".m4s") != 10 {
		t.Fatalf("chunked media playlist:\n%s", pl)
	}
	chunkedFrames := videoFrames(t, media)
	wholeFrames := videoFrames(t, base+whole.GetAssetId()+"/v180p/media.m3u8")
	if len(chunkedFrames) != len(srcFrames) || len(wholeFrames) != len(srcFrames) {
		t.Fatalf("frames: source %d, chunked %d, unchunked %d", len(srcFrames), len(chunkedFrames), len(wholeFrames))
	}
	step := 1.0 / 30
	for i := 1; i < len(chunkedFrames); i++ {
		if d := chunkedFrames[i] - chunkedFrames[i-1]; math.Abs(d-step) > step/10 {
			t.Errorf("frame %d (%.3f s): step %.4f s, want %.4f (a gap or overlap at a chunk boundary?)", i, chunkedFrames[i], d, step)
		}
		if math.Abs(chunkedFrames[i]-wholeFrames[i]) > 1e-3 {
			t.Fatalf("frame %d: chunked at %.4f s, unchunked at %.4f s", i, chunkedFrames[i], wholeFrames[i])
		}
	}
	srcDur := srcFrames[len(srcFrames)-1] - srcFrames[0] + step
	chunkDur := chunkedFrames[len(chunkedFrames)-1] - chunkedFrames[0] + step
	if math.Abs(chunkDur-srcDur) > step/2 {
		t.Fatalf("duration: chunked %.3f s, source %.3f s", chunkDur, srcDur)
	}
	types, durs := streamDurations(t, base+chunked.GetAssetId()+"/manifest.mpd")
	for i, ty := range types {
		if math.Abs(durs[i]-20) > 0.2 {
			t.Errorf("DASH %s stream decodes to %.3f s, want 20", ty, durs[i])
		}
	}
}
