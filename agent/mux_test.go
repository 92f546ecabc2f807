package agent

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// runnerEnv runs task runners against a real storage node over loopback
// gRPC, publishing each task's staging area the way the leader does.
type runnerEnv struct {
	a     *Agent
	st    *storage.Client
	jobID string
	log   hclog.Logger
}

func newRunnerEnv(t *testing.T) *runnerEnv {
	t.Helper()
	bin, probe := testmedia.Tools(t)
	log := testmedia.Logger(t, hclog.Info)
	cfg := storage.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.SyncWrites = false
	store, err := storage.Open(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	v1.RegisterStorageServiceServer(srv, storage.NewGRPCServer(store, log))
	go func() { _ = srv.Serve(lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{ID: "runner-test", Coordinators: []string{"127.0.0.1:1"}, WorkDir: t.TempDir(),
		FFmpeg: bin, FFprobe: probe, StorageAddress: lis.Addr().String(),
		// The test's storage server is plaintext loopback, said explicitly.
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.stores.close()
		_ = cc.Close()
		srv.Stop()
		_ = store.Close()
	})
	return &runnerEnv{a: a, st: storage.NewClient(cc), jobID: "job1", log: log}
}

// run runs one task as attempt 1 and publishes its outputs to the asset
// root, or to dir inside it (as the leader does for encodes).
func (e *runnerEnv) run(t *testing.T, name, dir string, spec *v1.TaskSpec) (*v1.TaskResult, *taskRun, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	task := &v1.Task{Id: e.jobID + "." + name, JobId: e.jobID, Name: name, Spec: spec, Attempt: 1}
	g := &v1.LeaseGrant{Task: task, Attempt: 1, LeaseToken: 1, StagingPrefix: "staging/" + task.GetId() + "/1/"}
	run := &taskRun{grant: g, dir: filepath.Join(e.a.cfg.WorkDir, "tasks", name), log: e.log.With("task", name)}
	defer os.RemoveAll(run.dir)
	res, err := e.a.runTask(ctx, run)
	if err != nil {
		return nil, run, err
	}
	to := "assets/" + e.jobID + "/"
	if dir != "" {
		to += dir + "/"
	}
	if _, err := e.st.Publish(ctx, g.GetStagingPrefix(), to); err != nil {
		t.Fatal(err)
	}
	return res, run, nil
}

// mustRun is run that fails the test on a runner error.
func (e *runnerEnv) mustRun(t *testing.T, name, dir string, spec *v1.TaskSpec) *v1.TaskResult {
	t.Helper()
	res, run, err := e.run(t, name, dir, spec)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p := math.Float64frombits(run.progress.Load()); p != 1 {
		t.Errorf("%s: final progress %v", name, p)
	}
	return res
}

// download copies the published asset into a local directory.
func (e *runnerEnv) download(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	prefix := "assets/" + e.jobID + "/"
	objs, err := e.st.List(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		local := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(o.GetPath(), prefix)))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := e.st.GetToFile(ctx, o.GetPath(), local); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// testSource is a 5 s 320x180 clip with a French mov_text subtitle stream
// (stream index 2), uploaded to storage.
func (e *runnerEnv) testSource(t *testing.T) *v1.Source {
	t.Helper()
	bin, _ := testmedia.Tools(t)
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 5})
	srt := filepath.Join(dir, "fr.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:01,000 --> 00:00:02,500\nBonjour\n\n2\n00:00:03,000 --> 00:00:04,000\nAu revoir\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.mp4")
	if out, err := exec.Command(bin, "-nostdin", "-v", "error", "-i", clip, "-i", srt, "-map", "0", "-map", "1",
		"-c", "copy", "-c:s", "mov_text", "-metadata:s:s:0", "language=fra", src).CombinedOutput(); err != nil {
		t.Fatalf("mux subtitles: %v\n%s", err, out)
	}
	if _, err := e.st.PutFile(context.Background(), "sources/src1", src, ""); err != nil {
		t.Fatal(err)
	}
	return &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/src1"}}
}

// encodeTracks runs the video (180p) and audio encodes and returns their
// tracks with the directories the leader gives them.
func (e *runnerEnv) encodeTracks(t *testing.T, src *v1.Source) (video, audio *v1.TrackOutput) {
	t.Helper()
	video = e.mustRun(t, "encode-180p", "v180p", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_VIDEO, Source: src,
		Rendition:      &v1.Rendition{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000, MaxBitrate: 450_000, Profile: "high", Level: "3.0"},
		SegmentSeconds: 2, FrameRate: 25, SourceDurationSeconds: 5}).GetTrack()
	video.Dir = "v180p"
	audio = e.mustRun(t, "audio", "audio", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_AUDIO, Source: src,
		Audio:          &v1.AudioSpec{Bitrate: 96_000, Channels: 2, SampleRate: 48000, Language: "eng", Name: "audio"},
		SegmentSeconds: 2, SourceDurationSeconds: 5}).GetTrack()
	audio.Dir, audio.Language = "audio", "eng"
	return video, audio
}

// TestRunnersPipeline runs the encodes, then the thumbnail, subtitle and mux
// runners and the packager with TS HLS, publishing each like the leader,
// and has ffmpeg play the published HLS (TS variants) and DASH manifests.
func TestRunnersPipeline(t *testing.T) {
	e := newRunnerEnv(t)
	src := e.testSource(t)
	video, audio := e.encodeTracks(t, src)

	thumbs := e.mustRun(t, "thumbnails", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_THUMBNAILS, Source: src,
		SourceDurationSeconds: 5, Thumbnails: &v1.ThumbnailSpec{IntervalSeconds: 1, TileWidth: 80, Columns: 3, PosterSeconds: 2}})
	subs := e.mustRun(t, "subtitles", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_SUBTITLES, Source: src,
		Subtitles: []*v1.SubtitleStream{{Index: 2, Codec: "mov_text", Language: "fra"}, {Index: 7, Codec: "hdmv_pgs_subtitle", Language: "deu"}}})
	mux := e.mustRun(t, "mux-180p", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_MUX, SegmentSeconds: 2,
		Rendition: &v1.Rendition{Name: "180p"}, Mux: &v1.MuxSpec{Video: video, Audio: audio, Mp4: true, Ts: true}})
	pkg := e.mustRun(t, "package", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_PACKAGE, SourceDurationSeconds: 5,
		Tracks:  []*v1.TrackOutput{video, audio},
		Outputs: &v1.Outputs{HlsSegments: v1.SegmentFormat_SEGMENT_FORMAT_TS, Mp4: true},
		Extras:  []*v1.TaskResult{thumbs, subs, mux}})

	th := thumbs.GetThumbnails()
	if th.GetPoster() != "thumbs/poster.jpg" || th.GetSprite() != "thumbs/sprite.jpg" || th.GetVtt() != "thumbs/thumbnails.vtt" ||
		th.GetCount() != 5 || th.GetColumns() != 3 || th.GetRows() != 2 || th.GetTileWidth() != 80 || th.GetTileHeight() != 44 || th.GetIntervalSeconds() != 1 {
		t.Errorf("thumbnails: %v", th)
	}
	so := subs.GetSubtitles()
	if len(so.GetTracks()) != 1 || so.GetTracks()[0].GetPath() != "subs/sub_fra.vtt" || so.GetTracks()[0].GetLanguage() != "fra" ||
		so.GetTracks()[0].GetName() != "French" || len(so.GetSkipped()) != 1 || !strings.Contains(so.GetSkipped()[0], "stream 7") {
		t.Errorf("subtitles: %v", so)
	}
	mo := mux.GetMux()
	ts := mo.GetTs()
	if mo.GetRendition() != "180p" || mo.GetMp4() != "download/180p.mp4" || mo.GetMp4Size() <= 0 || ts.GetDir() != "ts/180p" ||
		len(ts.GetSegments()) != len(video.GetSegments()) || ts.GetCodecs() != video.GetCodecs()+",mp4a.40.2" ||
		ts.GetWidth() != 320 || ts.GetHeight() != 180 || ts.GetFrameRate() != 25 || ts.GetAverageBitrate() <= 0 || ts.GetPeakBitrate() < ts.GetAverageBitrate() {
		t.Errorf("mux: %v", mo)
	}
	for i, s := range ts.GetSegments() {
		if s.GetSize() <= 0 || s.GetDurationSeconds() <= 0 || s.GetName() != strings.Replace(video.GetSegments()[i].GetName(), ".m4s", ".ts", 1) {
			t.Errorf("ts segment %d: %v", i, s)
		}
	}
	pr := pkg.GetPackage()
	if pr.GetHlsMaster() != "master.m3u8" || pr.GetDashManifest() != "manifest.mpd" || strings.Join(pr.GetMp4(), ",") != "download/180p.mp4" ||
		pr.GetPoster() != "thumbs/poster.jpg" || pr.GetThumbnailsVtt() != "thumbs/thumbnails.vtt" || len(pr.GetSubtitles()) != 1 {
		t.Errorf("package: %v", pr)
	}

	root := e.download(t)
	if d := os.Getenv("KEEP_ASSET"); d != "" {
		_ = exec.Command("cp", "-r", root, d).Run()
	}
	for _, f := range []string{"thumbs/poster.jpg", "thumbs/sprite.jpg", "thumbs/thumbnails.vtt", "subs/sub_fra.vtt",
		"download/180p.mp4", "ts/180p/index.m3u8", "ts/180p/media.m3u8", "ts/180p/seg_00001.ts", "ts/subs/sub_fra.vtt", "ts/subs/sub_fra.m3u8",
		"master.m3u8", "manifest.mpd", "v180p/init.mp4", "audio/seg_00001.m4s"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("published asset lacks %s", f)
		}
	}
	vtt := readFile(t, filepath.Join(root, "thumbs/thumbnails.vtt"))
	if !strings.Contains(vtt, "00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,80,44\n") {
		t.Errorf("thumbnail track:\n%s", vtt)
	}
	if sub := readFile(t, filepath.Join(root, "subs/sub_fra.vtt")); !strings.Contains(sub, "Bonjour") || strings.Contains(sub, "X-TIMESTAMP-MAP") {
		t.Errorf("subtitles:\n%s", sub)
	}
	// The TS copy maps cue time 0 to the first TS timestamp (ffmpeg's
	// muxing delay plus the B-frame reorder delay), where video and audio
	// start.
	bin, probe := testmedia.Tools(t)
	out, err := exec.Command(probe, "-v", "error", "-show_entries", "stream=start_pts", "-of", "csv=p=0", "-select_streams", "v:0",
		filepath.Join(root, "ts/180p/seg_00001.ts")).Output()
	starts := strings.Fields(string(out))
	if err != nil || len(starts) == 0 {
		t.Fatalf("TS start pts %q: %v", out, err)
	}
	mapped := readFile(t, filepath.Join(root, "ts/subs/sub_fra.vtt"))
	if !strings.HasPrefix(mapped, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:"+starts[0]+",LOCAL:00:00:00.000\n") || !strings.Contains(mapped, "Bonjour") {
		t.Errorf("mapped subtitles (TS starts at %s):\n%s", starts[0], mapped)
	}
	master := readFile(t, filepath.Join(root, "master.m3u8"))
	if !strings.Contains(master, "\nts/180p/media.m3u8\n") || !strings.Contains(master, `URI="ts/subs/sub_fra.m3u8"`) {
		t.Errorf("master:\n%s", master)
	}

	for _, m := range []string{"master.m3u8", "manifest.mpd", "download/180p.mp4"} {
		// ffmpeg's DASH reader refuses the .vtt sidecar unless told.
		in := []string{"-allowed_extensions", "ALL", "-i", filepath.Join(root, m)}
		if m != "manifest.mpd" {
			in = in[2:]
		}
		out, err := exec.Command(bin, append(append([]string{"-nostdin", "-v", "error"}, in...),
			"-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-")...).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("play %s: %v: %s", m, err, out)
		}
		out, err = exec.Command(probe, append(append([]string{"-v", "error"}, in...),
			"-show_entries", "format=duration", "-of", "csv=p=0")...).CombinedOutput()
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), "5.") {
			t.Errorf("%s duration %q: %v", m, out, err)
		}
	}
}

// TestRunnersPipelineCMAF packages CMAF HLS with two audio languages,
// subtitles and thumbnails, and has ffmpeg play both audio renditions.
func TestRunnersPipelineCMAF(t *testing.T) {
	e := newRunnerEnv(t)
	src := e.testSource(t)
	video, audio := e.encodeTracks(t, src)
	audio2 := e.mustRun(t, "audio_2", "audio_2", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_AUDIO, Source: src,
		Audio:          &v1.AudioSpec{Bitrate: 64_000, Channels: 1, SampleRate: 48000, Language: "fra", Name: "audio_2"},
		SegmentSeconds: 2, SourceDurationSeconds: 5}).GetTrack()
	audio2.Dir, audio2.Language = "audio_2", "fra"
	thumbs := e.mustRun(t, "thumbnails", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_THUMBNAILS, Source: src, SourceDurationSeconds: 5})
	subs := e.mustRun(t, "subtitles", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_SUBTITLES, Source: src,
		Subtitles: []*v1.SubtitleStream{{Index: 2, Codec: "mov_text", Language: "fra", Title: "Français"}}})
	pkg := e.mustRun(t, "package", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_PACKAGE, SourceDurationSeconds: 5,
		Tracks: []*v1.TrackOutput{video, audio, audio2}, Extras: []*v1.TaskResult{thumbs, subs}}).GetPackage()
	if pkg.GetHlsMaster() != "master.m3u8" || pkg.GetDashManifest() != "manifest.mpd" || len(pkg.GetMp4()) != 0 ||
		pkg.GetSubtitles()[0].GetName() != "Français" {
		t.Errorf("package: %v", pkg)
	}
	root := e.download(t)
	master := readFile(t, filepath.Join(root, "master.m3u8"))
	for _, want := range []string{`LANGUAGE="en",NAME="English",DEFAULT=YES`, `LANGUAGE="fr",NAME="French",DEFAULT=NO`,
		`URI="subs/sub_fra.m3u8"`, "\nv180p/media.m3u8\n", `DATA-ID="com.vodfleet.thumbnails",VALUE="thumbs/thumbnails.vtt"`} {
		if !strings.Contains(master, want) {
			t.Errorf("master lacks %s:\n%s", want, master)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "subs/sub_fra.m3u8")); err != nil {
		t.Error(err)
	}
	bin, _ := testmedia.Tools(t)
	for _, m := range []string{"master.m3u8", "manifest.mpd"} {
		for _, a := range []string{"0:a:0", "0:a:1"} {
			out, err := exec.Command(bin, "-nostdin", "-v", "error", "-allowed_extensions", "ALL", "-i", filepath.Join(root, m),
				"-map", "0:v:0", "-map", a, "-f", "null", "-").CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("play %s with %s: %v: %s", m, a, err, out)
			}
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMuxRejectsBadSpecs(t *testing.T) {
	e := newRunnerEnv(t)
	seg := []*v1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 2}}
	for name, spec := range map[string]*v1.MuxSpec{
		"no video":  {Mp4: true},
		"no output": {Video: &v1.TrackOutput{Dir: "v1", Segments: seg}},
		"traversal": {Video: &v1.TrackOutput{Dir: "v1", Segments: []*v1.Segment{{Name: "../x", DurationSeconds: 2}}}, Mp4: true},
		"ts no seg": {Video: &v1.TrackOutput{Dir: "v1", Segments: seg}, Ts: true},
	} {
		_, _, err := e.run(t, "mux", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_MUX, Mux: spec, Rendition: &v1.Rendition{Name: "1"}})
		if !errors.Is(err, errPermanent) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTSFirstPTS(t *testing.T) {
	pkt := func(pusi bool, afc byte, payload []byte) []byte {
		p := make([]byte, 188)
		p[0], p[1], p[3] = 0x47, 0x01, afc<<4
		if pusi {
			p[1] |= 0x40
		}
		start := 4
		if afc == 3 {
			p[4] = 7
			start = 12
		}
		copy(p[start:], payload)
		return p
	}
	pes := func(sid byte, pts int64) []byte {
		return []byte{0, 0, 1, sid, 0, 0, 0x80, 0x80, 5,
			byte(0x21 | (pts>>29)&0x0e), byte(pts >> 22), byte(0x01 | (pts>>14)&0xfe), byte(pts >> 7), byte(0x01 | (pts<<1)&0xfe)}
	}
	var data []byte
	data = append(data, pkt(true, 1, []byte{0, 0, 0xb0})...)        // PAT-like: no PES
	data = append(data, pkt(true, 1, pes(0xC0, 126000+1920))...)    // audio first
	data = append(data, pkt(false, 1, pes(0xE0, 1))...)             // not a unit start
	data = append(data, pkt(true, 3, pes(0xE0, (1<<32)+126000))...) // video, adaptation field
	if got, err := tsFirstPTS(data); err != nil || got != (1<<32)+126000 {
		t.Errorf("video pts %d %v", got, err)
	}
	if got, err := tsFirstPTS(data[:2*188]); err != nil || got != 126000+1920 {
		t.Errorf("audio-only pts %d %v", got, err)
	}
	if _, err := tsFirstPTS(data[:188]); !errors.Is(err, errNoTimestamp) {
		t.Errorf("no pes: %v", err)
	}
}
