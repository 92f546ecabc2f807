package devcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Limits of the bad-input cluster. The clips the tests make are 2 s at
// 320x180 unless they are meant to break one of these.
const (
	badMaxDuration = 2500 * time.Millisecond
	badMaxBytes    = 1 << 20
	badMaxWidth    = 640
	badMaxHeight   = 360
	// badFailWithin bounds how long a bad job may take to fail.
	badFailWithin = 45 * time.Second
)

// startBadInputCluster runs a dev cluster with production-like source
// rules: no private addresses except loopback (the test servers), and
// small limits. It also returns the cluster's data directory.
func startBadInputCluster(t *testing.T) (v1.JobServiceClient, *storage.Client, string) {
	t.Helper()
	cfg := LoopbackConfig(t.TempDir())
	cfg.AgentSlots = 4
	loopback := []string{"127.0.0.0/8"}
	cfg.Coordinator.AllowPrivateSources = false
	cfg.Coordinator.AllowedSourceCIDRs = loopback
	cfg.Coordinator.MaxSourceDuration = badMaxDuration
	cfg.Coordinator.MaxSourceBytes = badMaxBytes
	cfg.Coordinator.MaxSourceWidth, cfg.Coordinator.MaxSourceHeight = badMaxWidth, badMaxHeight
	cfg.Agent.AllowPrivateSources = false
	cfg.Agent.AllowedSourceCIDRs = loopback
	cfg.Agent.MaxSourceBytes = badMaxBytes
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr)), storage.NewClient(dialT(t, c, c.Storage.GRPCAddr)), cfg.DataDir
}

// badFiles writes the bad inputs into dir and returns their paths by name.
func badFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	ffmpegBin, _ := testmedia.Tools(t)
	files := map[string]string{}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	ffmpeg := func(args ...string) {
		if b, err := exec.Command(ffmpegBin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
		}
	}
	write("notes.txt", bytes.Repeat([]byte("this is not a video file\n"), 100))
	write("passwd.m3u8", []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"))
	write("list.ffconcat", []byte("ffconcat version 1.0\nfile /etc/passwd\n"))
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 2})
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	write("truncated.mp4", data[:len(data)*2/5]) // the moov atom is at the end
	mkv := filepath.Join(dir, "clip.mkv")
	ffmpeg("-i", clip, "-c", "copy", mkv)
	if data, err = os.ReadFile(mkv); err != nil {
		t.Fatal(err)
	}
	// A Matroska codec id ffmpeg does not know: the stream is video of an
	// unknown codec.
	if !bytes.Contains(data, []byte("V_MPEG4/ISO/AVC")) {
		t.Fatal("no H.264 codec id in the mkv")
	}
	write("unknown-codec.mkv", bytes.Replace(data, []byte("V_MPEG4/ISO/AVC"), []byte("V_VODFLEET/NONE"), 1))
	srt := filepath.Join(dir, "subs.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:01,500\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files["subtitles-only.mkv"] = filepath.Join(dir, "subtitles-only.mkv")
	ffmpeg("-i", srt, "-c:s", "srt", files["subtitles-only.mkv"])
	files["long.mp4"] = testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	files["wide.mp4"] = testmedia.Make(t, dir, testmedia.Clip{Size: "800x450", Seconds: 1, NoAudio: true})
	big := make([]byte, badMaxBytes+256<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	write("big.mp4", big)
	return files
}

// submitURL submits a job for a URL source.
func submitURL(ctx context.Context, jobs v1.JobServiceClient, u string, attempts int32) (*v1.Job, error) {
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source: &v1.Source{Location: &v1.Source_Url{Url: u}}, MaxAttempts: attempts})
	return resp.GetJob(), err
}

// expectFailed waits for job to end and checks it FAILED within
// badFailWithin, with an error holding every want fragment and, when
// permanent, after a single attempt.
func expectFailed(t *testing.T, ctx context.Context, jobs v1.JobServiceClient, job *v1.Job, permanent bool, want ...string) *v1.WatchJobResponse {
	t.Helper()
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, badFailWithin)
	defer cancel()
	end := waitJob(t, wctx, jobs, job.GetId())
	if took := time.Since(start); took > badFailWithin {
		t.Errorf("job took %s to fail", took)
	}
	msg := end.GetJob().GetError()
	if s := end.GetJob().GetState(); s != v1.JobState_JOB_STATE_FAILED {
		t.Fatalf("job ended %s (%q), want FAILED", s, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("job error %q lacks %q", msg, w)
		}
	}
	if permanent {
		for _, tk := range end.GetTasks() {
			if tk.GetAttempt() > 1 {
				t.Errorf("permanent failure retried: task %s attempt %d", tk.GetName(), tk.GetAttempt())
			}
		}
	}
	t.Logf("job error: %s", msg)
	return end
}

// noPasswdAnywhere checks that nothing the job produced or the agents
// keep holds /etc/passwd content: not the job or task errors, not the
// asset, not any file in the cluster's data directory.
func noPasswdAnywhere(t *testing.T, ctx context.Context, st *storage.Client, end *v1.WatchJobResponse, dataDir string) {
	t.Helper()
	texts := []string{end.GetJob().GetError()}
	for _, tk := range end.GetTasks() {
		texts = append(texts, tk.GetError())
	}
	for _, s := range texts {
		if strings.Contains(s, "root:") {
			t.Errorf("error text holds /etc/passwd content: %q", s)
		}
	}
	objs, err := st.List(ctx, "assets/"+end.GetJob().GetAssetId()+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) > 0 {
		t.Errorf("failed job published %d objects", len(objs))
	}
	_ = filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+"etcd"+string(filepath.Separator)) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("root:x:0:0")) {
			t.Errorf("%s holds /etc/passwd content", p)
		}
		return nil
	})
}

func TestBadInputFailsClearly(t *testing.T) {
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Skip("no /etc/passwd to guard")
	}
	jobs, st, dataDir := startBadInputCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	files := badFiles(t, dir)
	web := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer web.Close()
	redirect := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
	defer redirect.Close()

	uploaded := []struct {
		name, file string
		want       []string
	}{
		{"not media", "notes.txt", []string{"probe failed: not a media file: ffprobe: invalid data found when processing input"}},
		{"no video stream", "subtitles-only.mkv", []string{"probe failed", "no video stream"}},
		{"truncated", "truncated.mp4", []string{"probe failed: source file is truncated: ffprobe: moov atom not found"}},
		{"unsupported codec", "unknown-codec.mkv", []string{"probe failed: unsupported codec: ffprobe: video stream #0 uses a codec ffmpeg cannot decode"}},
		{"too long", "long.mp4", []string{"probe failed: source too long: 3", "s exceeds the 2.5s limit"}},
		{"resolution", "wide.mp4", []string{"probe failed: source resolution too high: 800x450 exceeds the 640x360 limit"}},
		{"too large upload", "big.mp4", []string{"probe failed: source too large:", "limit 1048576"}},
		{"concat list", "list.ffconcat", []string{"not a media file", "concat input is not an accepted media format"}},
	}
	t.Run("inputs", func(t *testing.T) {
		for _, tt := range uploaded {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				expectFailed(t, ctx, jobs, submitFile(t, ctx, jobs, st, files[tt.file]), true, tt.want...)
			})
		}
		t.Run("hls playlist upload reading /etc/passwd", func(t *testing.T) {
			t.Parallel()
			end := expectFailed(t, ctx, jobs, submitFile(t, ctx, jobs, st, files["passwd.m3u8"]), true,
				"probe failed: not a media file: ffprobe: hls input is not an accepted media format")
			noPasswdAnywhere(t, ctx, st, end, dataDir)
		})
		t.Run("hls playlist url reading /etc/passwd", func(t *testing.T) {
			t.Parallel()
			job, err := submitURL(ctx, jobs, web.URL+"/passwd.m3u8", 0)
			if err != nil {
				t.Fatal(err)
			}
			end := expectFailed(t, ctx, jobs, job, true,
				"probe failed: not a media file: ffprobe: hls input is not an accepted media format")
			noPasswdAnywhere(t, ctx, st, end, dataDir)
		})
		t.Run("too large url", func(t *testing.T) {
			t.Parallel()
			job, err := submitURL(ctx, jobs, web.URL+"/big.mp4?token=secret", 0)
			if err != nil {
				t.Fatal(err)
			}
			end := expectFailed(t, ctx, jobs, job, true, "probe failed: source too large:", "limit 1048576")
			if strings.Contains(end.GetJob().GetError(), "secret") {
				t.Errorf("job error leaks the url query: %q", end.GetJob().GetError())
			}
		})
		t.Run("unreachable url", func(t *testing.T) {
			t.Parallel()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close() // nothing listens there now: connection refused
			job, err := submitURL(ctx, jobs, "http://"+addr+"/a.mp4", 2)
			if err != nil {
				t.Fatal(err)
			}
			end := expectFailed(t, ctx, jobs, job, false,
				"probe failed after 2 attempts: source unreachable: HEAD "+addr+": dial tcp "+addr, "connection refused")
			if a := end.GetTasks()[0].GetAttempt(); a != 2 {
				t.Errorf("unreachable source tried %d times, want 2", a)
			}
		})
		t.Run("redirect to a forbidden address", func(t *testing.T) {
			t.Parallel()
			// The coordinator cannot see where a redirect leads; the agent
			// refuses it before connecting.
			job, err := submitURL(ctx, jobs, redirect.URL+"/a.mp4", 0)
			if err != nil {
				t.Fatal(err)
			}
			expectFailed(t, ctx, jobs, job, true, "probe failed: source url refused", "169.254.169.254 is link-local")
		})
	})
}

func TestPrivateSourceURLRefusedAtSubmit(t *testing.T) {
	jobs, _, _ := startBadInputCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range []string{
		"http://10.1.2.3/a.mp4",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]:8080/a.mp4",
		"http://localhost:8080/a.mp4",
		"http://192.168.1.10/a.mp4",
		"file:///etc/passwd",
	} {
		_, err := submitURL(ctx, jobs, u, 0)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", u, err)
			continue
		}
		t.Logf("%s: %s", u, status.Convert(err).Message())
	}
	// The allowlisted loopback network passes the submit check.
	if _, err := submitURL(ctx, jobs, "http://127.0.0.1:9/a.mp4", 1); err != nil {
		t.Errorf("allowlisted loopback refused: %v", err)
	}
}

func TestDevDefaultsAllowLoopbackSources(t *testing.T) {
	d := DefaultConfig()
	if !d.Coordinator.AllowPrivateSources || !d.Agent.AllowPrivateSources {
		t.Fatal("vodfleet dev must accept loopback sources: it is a local sandbox")
	}
	if l := LoopbackConfig(t.TempDir()); !l.Coordinator.AllowPrivateSources || !l.Agent.AllowPrivateSources {
		t.Fatal("the loopback test config must accept loopback sources")
	}
}
