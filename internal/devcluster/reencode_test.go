package devcluster

import (
	"bytes"
	"context"
	"math"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// uriAttr finds URI="..." attributes in HLS tags (EXT-X-MAP, EXT-X-MEDIA).
var uriAttr = regexp.MustCompile(`URI="([^"]+)"`)

// playlistURIs lists every URI an HLS playlist names: its non-tag lines and
// its URI attributes, resolved against dir.
func playlistURIs(body, dir string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			for _, m := range uriAttr.FindAllStringSubmatch(line, -1) {
				out = append(out, path.Join(dir, m[1]))
			}
		default:
			out = append(out, path.Join(dir, line))
		}
	}
	return out
}

// checkMaster reads an asset's HLS master from storage and every file it
// names, through the media playlists, down to each init and media segment.
// It returns the master's bytes and the first missing path ("" if none).
func checkMaster(ctx context.Context, st *storage.Client, asset string) ([]byte, string, error) {
	root := "assets/" + asset + "/"
	var master bytes.Buffer
	if _, err := st.Get(ctx, root+"master.m3u8", &master); err != nil {
		return nil, "", err
	}
	for _, media := range playlistURIs(master.String(), "") {
		var body bytes.Buffer
		if _, err := st.Get(ctx, root+media, &body); err != nil {
			return master.Bytes(), media, nil
		}
		if !strings.HasSuffix(media, ".m3u8") {
			continue // a subtitle or thumbnail file
		}
		for _, p := range playlistURIs(body.String(), path.Dir(media)) {
			if _, err := st.Stat(ctx, root+p); err != nil {
				return master.Bytes(), p, nil
			}
		}
	}
	return master.Bytes(), "", nil
}

// objects lists an asset's objects by path.
func objects(t *testing.T, ctx context.Context, st *storage.Client, asset string) map[string]*v1.ObjectInfo {
	t.Helper()
	list, err := st.List(ctx, "assets/"+asset+"/")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*v1.ObjectInfo{}
	for _, o := range list {
		out[strings.TrimPrefix(o.GetPath(), "assets/"+asset+"/")] = o
	}
	return out
}

// reencodeWatched runs a reencode while another goroutine reads the
// served master and every file it names, over and over, until the job
// ends. Every read must find every file. It returns the job's last update
// and how many reads saw the old master and the new one.
func reencodeWatched(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, st *storage.Client, req *v1.ReencodeAssetRequest, oldMaster []byte) (end *v1.WatchJobResponse, sawOld, sawNew int) {
	t.Helper()
	resp, err := jobs.ReencodeAsset(ctx, req)
	if err != nil {
		t.Fatalf("reencode: %v", err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			master, missing, err := checkMaster(ctx, st, req.GetAssetId())
			mu.Lock()
			switch {
			case err != nil:
				problems = append(problems, "master: "+err.Error())
			case missing != "":
				problems = append(problems, "the served master names a missing file: "+missing)
			case bytes.Equal(master, oldMaster):
				sawOld++
			default:
				sawNew++
			}
			mu.Unlock()
		}
	}()
	end = waitJob(t, ctx, jobs, resp.GetJob().GetId())
	close(stop)
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("while reencoding: %v", problems[:min(len(problems), 5)])
	}
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("reencode ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	return end, sawOld, sawNew
}

// ranTasks lists the tasks of a job that an agent ran (attempt > 0).
func ranTasks(tasks []*v1.Task) string {
	var out []string
	for _, tk := range tasks {
		if tk.GetAttempt() > 0 {
			out = append(out, tk.GetName())
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestReencodeAddsAndReplacesRenditions publishes a 4 s asset with two
// H.264 renditions in 2 s chunks, adds a third in AV1 (chunked too: AV1
// chunks have no preroll) with ReencodeAsset and then
// replaces one. While each reencode runs, the master served by storage is
// read again and again, and every file it names must exist. Only the new
// rendition's chunks (and the package) run; the old renditions' segments
// keep their content and write time (never uploaded again); the replaced
// rendition lands in a new directory and its old files stay. At the end the
// master names the three renditions and every stream of it decodes through
// the edge for the source's duration.
func TestReencodeAddsAndReplacesRenditions(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cat := v1.NewCatalogServiceClient(dialT(t, c, c.Coordinator.Addr))
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 4})
	_, srcDur := streamDurations(t, clip)

	job := submitEncode(t, ctx, jobs, st, clip, 2, &v1.EncodeOptions{ChunkSeconds: 2,
		Renditions: []*v1.RenditionRequest{{Name: "180p", Height: 180}, {Name: "90p", Height: 90}},
		Outputs:    &v1.Outputs{Thumbnails: protoBool(false)}})
	first := waitJob(t, ctx, jobs, job.GetId())
	if first.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", first.GetJob().GetState(), first.GetJob().GetError())
	}
	asset := job.GetId()
	before := objects(t, ctx, st, asset)
	oldMaster, missing, err := checkMaster(ctx, st, asset)
	if err != nil || missing != "" {
		t.Fatalf("first master: missing %q, %v", missing, err)
	}

	// Add a 256x144 rendition.
	end, sawOld, sawNew := reencodeWatched(t, ctx, jobs, st, &v1.ReencodeAssetRequest{AssetId: asset,
		Add: []*v1.RenditionRequest{{Width: 256, Height: 144, VideoBitrate: 150_000, Codec: v1.VideoCodec_VIDEO_CODEC_AV1}}}, oldMaster)
	t.Logf("add: %d reads saw the old master, %d the new one; every file was there", sawOld, sawNew)
	if sawOld == 0 {
		t.Errorf("no read saw the old master while the reencode ran")
	}
	if got := ranTasks(end.GetTasks()); got != "package video-144p-c01 video-144p-c02" {
		t.Fatalf("the reencode ran %q, want only the new rendition's chunks and the package", got)
	}
	after := objects(t, ctx, st, asset)
	kept := 0
	for p, o := range before {
		n := after[p]
		if strings.HasSuffix(p, ".m3u8") || strings.HasSuffix(p, ".mpd") {
			// Manifests are written again; a kept track's media playlist
			// with the same content, so an edge's cached copy stays right.
			if p != "master.m3u8" && strings.HasSuffix(p, ".m3u8") && (n == nil || n.GetSha256() != o.GetSha256()) {
				t.Fatalf("kept media playlist %s changed: %v -> %v", p, o, n)
			}
			continue
		}
		if n == nil || n.GetSha256() != o.GetSha256() || !n.GetModifiedAt().AsTime().Equal(o.GetModifiedAt().AsTime()) {
			t.Fatalf("%s changed: %v -> %v", p, o, n)
		}
		kept++
	}
	if kept < 8 { // 2 renditions and audio, each an init and 2 segments
		t.Fatalf("only %d media objects before the reencode: %v", kept, before)
	}
	master, _, _ := checkMaster(ctx, st, asset)
	if !bytes.Contains(master, []byte("av01.")) || !bytes.Contains(master, []byte("avc1.")) {
		t.Fatalf("master after the add does not offer AV1 next to H.264:\n%s", master)
	}
	for _, dir := range []string{"v180p/", "v90p/", "v144p/"} {
		if !bytes.Contains(master, []byte(dir)) {
			t.Fatalf("master after the add does not name %s:\n%s", dir, master)
		}
	}

	// Replace 90p: a new directory; the old one stays (not referenced).
	end, _, _ = reencodeWatched(t, ctx, jobs, st, &v1.ReencodeAssetRequest{AssetId: asset, Replace: []string{"90p"}}, master)
	if got := ranTasks(end.GetTasks()); got != "package video-90p-c01 video-90p-c02" {
		t.Fatalf("the replace ran %q", got)
	}
	newDir := "v90p_r" + end.GetJob().GetId() + "/"
	master, _, _ = checkMaster(ctx, st, asset)
	if !bytes.Contains(master, []byte(newDir)) || bytes.Contains(master, []byte("v90p/")) {
		t.Fatalf("master after the replace:\n%s", master)
	}
	if _, err := st.Stat(ctx, "assets/"+asset+"/v90p/"+path.Base(firstSegment(before, "v90p/"))); err != nil {
		t.Fatalf("the replaced rendition's old segment was removed: %v", err)
	}

	// The record lists the three renditions; every stream plays in full.
	rec, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: asset})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rec.GetAsset().GetRenditions() {
		names = append(names, r.GetName())
	}
	if got := strings.Join(names, " "); got != "180p 144p 90p" || rec.GetAsset().GetState() != v1.AssetState_ASSET_STATE_READY {
		t.Fatalf("record after the reencodes: %s %v", got, rec.GetAsset().GetState())
	}
	for _, url := range []string{end.GetJob().GetHlsUrl(), end.GetJob().GetDashUrl()} {
		types, durs := streamDurations(t, url)
		video := 0
		for i, ty := range types {
			if ty == "video" {
				video++
			}
			if math.Abs(durs[i]-srcDur[0]) > 0.2 {
				t.Errorf("%s stream %d (%s) decodes to %.3fs, source %.3fs", url, i, ty, durs[i], srcDur[0])
			}
		}
		if video != 3 {
			t.Errorf("%s has %d video streams, want 3 (%v)", url, video, types)
		}
		t.Logf("%s: streams %v, durations %v", url, types, durs)
	}
}

// firstSegment is the first media segment path under dir in objs.
func firstSegment(objs map[string]*v1.ObjectInfo, dir string) string {
	var segs []string
	for p := range objs {
		if strings.HasPrefix(p, dir) && strings.HasSuffix(p, ".m4s") && !strings.Contains(p, "init") {
			segs = append(segs, p)
		}
	}
	sort.Strings(segs)
	if len(segs) == 0 {
		return dir + "missing"
	}
	return segs[0]
}

func protoBool(b bool) *bool { return &b }

// TestReencodeKeepsMuxAndSubtitleOutputs adds a rendition to an asset with
// MP4 downloads, MPEG-TS HLS, two audio languages, subtitles and
// thumbnails: the new rendition gets its encode and its mux (reading the
// kept audio from the asset), the manifests keep every kept track and
// extra, the old download is untouched, and a replace of a rendition with
// mux outputs is refused.
func TestReencodeKeepsMuxAndSubtitleOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	job := submitEncode(t, ctx, jobs, st, richSource(t), 2, &v1.EncodeOptions{
		Renditions: []*v1.RenditionRequest{{Height: 180, Name: "sd"}},
		Outputs:    &v1.Outputs{Mp4: true, HlsSegments: v1.SegmentFormat_SEGMENT_FORMAT_TS},
	})
	if end := waitJob(t, ctx, jobs, job.GetId()); end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	asset := job.GetId()
	before := objects(t, ctx, st, asset)
	oldMaster, _, err := checkMaster(ctx, st, asset)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Replace: []string{"sd"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("replace of a rendition with mux outputs: %v, want InvalidArgument", err)
	}
	end, _, _ := reencodeWatched(t, ctx, jobs, st, &v1.ReencodeAssetRequest{AssetId: asset,
		Add: []*v1.RenditionRequest{{Height: 90, Name: "low"}}}, oldMaster)
	if got := ranTasks(end.GetTasks()); got != "mux-low package video-low" {
		t.Fatalf("the reencode ran %q", got)
	}
	j := end.GetJob()
	if got := strings.Join(j.GetMp4(), " "); got != "download/sd.mp4 download/low.mp4" && got != "download/low.mp4 download/sd.mp4" {
		t.Fatalf("mp4 downloads after the reencode: %q", got)
	}
	after := objects(t, ctx, st, asset)
	for _, p := range []string{"download/sd.mp4", firstSegment(before, "vsd/")} {
		if o, n := before[p], after[p]; o == nil || n == nil || o.GetSha256() != n.GetSha256() || !o.GetModifiedAt().AsTime().Equal(n.GetModifiedAt().AsTime()) {
			t.Fatalf("%s changed: %v -> %v", p, o, n)
		}
	}
	base := c.EdgeURL() + "/v/" + asset + "/"
	master := fetch(t, base+j.GetHlsMaster())
	for _, want := range []string{"ts/sd/media.m3u8", "ts/low/media.m3u8", "TYPE=SUBTITLES", `LANGUAGE="de"`, "com.vodfleet.thumbnails"} {
		if !strings.Contains(master, want) {
			t.Errorf("master after the reencode lacks %q:\n%s", want, master)
		}
	}
	types, durs := streamDurations(t, base+"ts/low/media.m3u8")
	if len(types) != 2 {
		t.Fatalf("new TS rendition streams %v", types)
	}
	for i := range types {
		if durs[i] < 5.8 || durs[i] > 6.2 {
			t.Errorf("new TS rendition: %s decodes to %.3f s", types[i], durs[i])
		}
	}
	if streams, _ := probeURL(t, base+"download/low.mp4"); len(streams) != 2 {
		t.Errorf("download/low.mp4 has %d streams", len(streams))
	}
}
