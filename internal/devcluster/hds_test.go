package devcluster

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/hds"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// get fetches u and fails the test unless it answers 200 with the
// Content-Type want.
func get(t *testing.T, u, want string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != want {
		t.Errorf("GET %s: Content-Type %q, want %q", u, ct, want)
	}
	return body
}

// resolve resolves ref against base, as a player resolves manifest URLs.
func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b.ResolveReference(r).String()
}

// TestHDSOutput submits a 6 s clip with HDS on (encoded in three chunks)
// and plays the output the way a Flash-era HDS player does, through the edge: the F4M manifest
// parses and names one media per rendition, each media's bootstrap (abst)
// decodes into segment and fragment runs, and every fragment they name is
// served with video/f4f, is an mdat of FLV tags starting on a keyframe
// with audio, starts where the bootstrap says, and the fragments add up to
// the source's duration. The FLV tags of each rendition, appended behind
// an FLV header (what a player feeds its decoder), decode with ffmpeg to
// every source frame. A job without the option has no hds/ objects.
func TestHDSOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	src := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 6})
	const srcSeconds, srcFrames = 6.0, 150

	// Chunked (three 2 s chunks), so HDS is remuxed from merged chunks.
	with := submitEncode(t, ctx, jobs, st, src, 2, &v1.EncodeOptions{
		Renditions:   []*v1.RenditionRequest{{Height: 180, VideoBitrate: 400_000}, {Height: 120, VideoBitrate: 150_000}},
		ChunkSeconds: 2,
		Outputs:      &v1.Outputs{Hds: true, Thumbnails: new(bool)},
	})
	without := submitEncode(t, ctx, jobs, st, src, 2, &v1.EncodeOptions{
		Renditions: []*v1.RenditionRequest{{Height: 120}},
		Outputs:    &v1.Outputs{Thumbnails: new(bool)},
	})
	for _, id := range []string{with.GetId(), without.GetId()} {
		if end := waitJob(t, ctx, jobs, id); end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
			t.Fatalf("job %s ended %s: %s", id, end.GetJob().GetState(), end.GetJob().GetError())
		}
	}
	resp, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: with.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	j := resp.GetJob()
	manifestURL := c.EdgeURL() + "/v/" + j.GetAssetId() + "/hds/index.f4m"
	if j.GetHdsManifest() != "hds/index.f4m" || j.GetHdsUrl() != manifestURL {
		t.Fatalf("job names HDS manifest %q at %q, want %q", j.GetHdsManifest(), j.GetHdsUrl(), manifestURL)
	}

	m, err := hds.ParseManifest(get(t, manifestURL, "application/f4m+xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Media) != 2 || m.StreamType != "recorded" || math.Abs(m.Duration-srcSeconds) > 0.2 {
		t.Fatalf("manifest: %d media, stream type %q, duration %.3f s", len(m.Media), m.StreamType, m.Duration)
	}
	if !(m.Media[0].Bitrate > 0 && m.Media[0].Bitrate < m.Media[1].Bitrate) || m.Media[0].Height != 120 || m.Media[1].Height != 180 {
		t.Errorf("media not from the lowest bitrate up: %+v", m.Media)
	}
	for _, md := range m.Media {
		b := m.Bootstrap(md)
		boot, err := hds.ParseBootstrap(get(t, resolve(t, manifestURL, b.URL), "application/octet-stream"))
		if err != nil {
			t.Fatalf("%s: %v", b.URL, err)
		}
		frags, err := boot.Fragments()
		if err != nil {
			t.Fatalf("%s: %v", b.URL, err)
		}
		if boot.Live || len(frags) != 3 {
			t.Fatalf("%s: live %v, %d fragments, want 3 (6 s in 2 s segments)", b.URL, boot.Live, len(frags))
		}
		flv := []byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0} // header, PreviousTagSize0
		total := 0.0
		for _, f := range frags {
			u := resolve(t, manifestURL, hds.FragmentURL(md.URL, f.Segment, f.Number))
			data := get(t, u, "video/f4f")
			info, err := hds.ParseFragment(data)
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			if !info.FirstVideoKeyframe || info.VideoKeyframes != 1 || info.Audio == 0 {
				t.Errorf("%s: %+v, want one keyframe, first, and audio", u, info)
			}
			if start := float64(info.First) / 1000; math.Abs(start-f.Start) > 0.05 {
				t.Errorf("%s: tags start at %.3f s, the bootstrap says %.3f s", u, start, f.Start)
			}
			tags, _ := hds.FLVTags(data)
			flv = append(flv, tags...)
			total += f.Duration
		}
		if math.Abs(total-srcSeconds) > 0.2 {
			t.Errorf("%s: fragments last %.3f s, the source %.1f s", md.URL, total, srcSeconds)
		}
		p := filepath.Join(dir, filepath.Base(filepath.Dir(md.URL))+".flv")
		if err := os.WriteFile(p, flv, 0o644); err != nil {
			t.Fatal(err)
		}
		frames, kinds := decodeFrames(t, p, "0")
		count := map[string]int{}
		for _, fr := range frames {
			count[kinds[fr.stream]]++
		}
		if len(kinds) != 2 || count["video"] != srcFrames || count["audio"] == 0 {
			t.Errorf("%s: decoded streams %v, frames %v, want %d video frames and audio", md.URL, kinds, count, srcFrames)
		}
	}

	// Cache hits (served by the edge's fast path) keep the types.
	get(t, manifestURL, "application/f4m+xml")
	get(t, resolve(t, manifestURL, hds.FragmentURL(m.Media[0].URL, 1, 1)), "video/f4f")

	// The storage origin records the same types (the edge's table wins
	// anyway, but other CDNs in front of the origin rely on it).
	origin := c.Storage.HTTPURL() + "/o/assets/" + j.GetAssetId() + "/hds/"
	get(t, origin+"index.f4m", "application/f4m+xml")
	get(t, origin+hds.FragmentURL(m.Media[0].URL, 1, 1), "video/f4f")

	// The catalog names the manifest too.
	cat := v1.NewCatalogServiceClient(dialT(t, c, c.Coordinator.Addr))
	a, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: j.GetAssetId()})
	if err != nil {
		t.Fatal(err)
	}
	if o := a.GetAsset().GetOutputs(); o.GetHdsManifest() != "hds/index.f4m" || o.GetHdsUrl() != manifestURL {
		t.Errorf("catalog outputs %v", o)
	}

	// Off by default: no HDS objects, no URL, 404 at the edge.
	resp, err = jobs.GetJob(ctx, &v1.GetJobRequest{JobId: without.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if j := resp.GetJob(); j.GetHdsUrl() != "" || j.GetHdsManifest() != "" {
		t.Errorf("job without HDS names %q", j.GetHdsUrl())
	}
	objs, err := st.List(ctx, "assets/"+without.GetAssetId()+"/hds/")
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.List(ctx, "assets/"+without.GetAssetId()+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 || len(all) == 0 {
		t.Errorf("job without HDS: %d hds objects of %d", len(objs), len(all))
	}
	r, err := http.Get(c.EdgeURL() + "/v/" + without.GetAssetId() + "/hds/index.f4m")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("hds manifest of a job without HDS: %d", r.StatusCode)
	}
}
