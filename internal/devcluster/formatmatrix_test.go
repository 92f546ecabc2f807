package devcluster

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// formatCase is one input of the format matrix: how to make it with
// ffmpeg and what the asset made from it must look like.
type formatCase struct {
	name string
	// file is the source's file name; its extension picks the container
	// only when gen does not name one with -f.
	file string
	// gen are the ffmpeg arguments between the lavfi inputs and the
	// output path; nil means the case writes its file itself (make).
	gen []string
	// inputs are the lavfi inputs; nil means fmVideo and fmMono.
	inputs []string
	// make writes the source at path from the files already made.
	make func(t *testing.T, path string, made map[string]string)
	// height is the requested rendition height (default 108).
	height int32
	// width, height of the rendition the asset must have (0: no video).
	wantW, wantH int
	// audio is the channel count of each audio track, in playlist order.
	audio []int
	// languages of the audio tracks (empty: not checked).
	languages []string
	// deinterlace is the parity the planner must give the video tasks.
	deinterlace string
	// measured says the field order must come from idet.
	measured bool
	// surround asks for the 5.1 track.
	surround bool
	// fails, when set, is what the job error must say; the job must FAIL.
	fails string
	// vfr says the source's frame step varies (checked, so the case
	// cannot pass on a constant-rate source).
	vfr bool
}

// Lavfi inputs the cases share: 2 s of 192x108 25 fps video (testsrc2 has
// detail idet mistakes for combing, so sources whose field order idet
// measures use testsrc), and a tone.
var (
	fmVideo   = []string{"-f", "lavfi", "-i", "testsrc2=size=192x108:rate=25:duration=2"}
	fmVideoV1 = []string{"-f", "lavfi", "-i", "testsrc=size=192x108:rate=25:duration=2"}
	// fmWoven is 50p video woven into 25 interlaced frames, top field
	// first (tinterlace keeps the height, halves the rate).
	fmWoven  = []string{"-f", "lavfi", "-i", "testsrc=size=192x108:rate=50:duration=2"}
	fmMono   = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"}
	fmStereo = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2", "-ac", "2"}
)

// formatCases is the matrix of issue 9: containers, codecs, scan types,
// geometry and audio layouts, plus an input ffmpeg cannot decode.
func formatCases() []formatCase {
	av := func(v []string, a []string) []string { return append(append([]string(nil), v...), a...) }
	stereo := []int{2}
	return []formatCase{
		{name: "mp4-h264", file: "h264.mp4", gen: []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2"}, audio: stereo},
		{name: "mov-hevc-8bit", file: "hevc8.mov", gen: []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-c:a", "aac", "-ac", "2"}, audio: stereo},
		{name: "mkv-hevc-10bit", file: "hevc10.mkv", gen: []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le", "-c:a", "aac", "-ac", "2"}, audio: stereo},
		{name: "mov-prores422-10bit", file: "prores.mov", gen: []string{"-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s16le", "-ac", "2"}, audio: stereo},
		{name: "ts-mpeg2", file: "mpeg2.ts", gen: []string{"-c:v", "mpeg2video", "-b:v", "1M", "-c:a", "mp2", "-ac", "2"}, audio: stereo},
		{name: "webm-vp9", file: "vp9.webm", gen: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus", "-ac", "2"}, audio: stereo},
		{name: "mkv-av1", file: "av1.mkv", gen: []string{"-c:v", "libsvtav1", "-preset", "12", "-svtav1-params", "lp=1", "-c:a", "libopus", "-ac", "2"}, audio: stereo},
		// Stored as .mp4: the container comes from the probe, never the
		// name.
		{name: "mxf-op1a-mpeg2-422", file: "op1a-mxf.mp4", gen: []string{"-c:v", "mpeg2video", "-pix_fmt", "yuv422p", "-b:v", "2M", "-c:a", "pcm_s16le", "-f", "mxf"}, inputs: av(fmVideo, fmMono), audio: stereo},
		{name: "flv-h264", file: "h264.flv", gen: []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2"}, audio: stereo},
		// MPEG-4 Part 2 in AVI records no field order: idet decides,
		// and progressive video stays untouched.
		{name: "avi-mpeg4-progressive", file: "mpeg4.avi", inputs: av(fmVideoV1, fmStereo), gen: []string{"-c:v", "mpeg4", "-q:v", "3", "-c:a", "mp3"}, audio: stereo, measured: true},
		{name: "interlaced-ts-field-order", file: "interlaced.ts", inputs: av(fmWoven, fmStereo),
			gen:   []string{"-vf", "tinterlace=interleave_top,setfield=tff", "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1", "-b:v", "1M", "-c:a", "mp2"},
			audio: stereo, deinterlace: "tff"},
		{name: "interlaced-avi-idet", file: "interlaced.avi", inputs: av(fmWoven, fmStereo),
			gen:   []string{"-vf", "tinterlace=interleave_top,setfield=tff", "-c:v", "mpeg4", "-flags", "+ildct+ilme", "-q:v", "3", "-c:a", "mp3"},
			audio: stereo, deinterlace: "tff", measured: true},
		// Variable frame rate: 25 fps for the first second, then every
		// other frame, timestamps kept.
		{name: "vfr-mkv", file: "vfr.mkv", gen: []string{"-vf", "select='lt(n,25)+not(mod(n,2))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2"}, audio: stereo, vfr: true},
		// The same in MP4, as phones write it: the average rate
		// (925/49, about 18.9 fps) becomes the output rate.
		{name: "vfr-mp4", file: "vfr.mp4", gen: []string{"-vf", "select='lt(n,25)+not(mod(n,2))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2"}, audio: stereo, vfr: true},
		// A phone video held upright: 192x108 pixels, 90° display matrix.
		{name: "rotated-90", file: "rotated.mp4", height: 192, wantW: 108, wantH: 192, audio: stereo,
			make: func(t *testing.T, path string, made map[string]string) {
				fmFFmpeg(t, "-i", made["mp4-h264"], "-c", "copy", "-metadata:s:v:0", "rotate=90", path)
			}},
		// 144x108 pixels 4:3 wide: displays as 192x108.
		{name: "anamorphic-sar-4-3", file: "sar.mp4", inputs: av([]string{"-f", "lavfi", "-i", "testsrc2=size=144x108:rate=25:duration=2"}, fmStereo),
			gen: []string{"-vf", "setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}, audio: stereo},
		{name: "mono", file: "mono.mp4", inputs: av(fmVideo, fmMono), gen: []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}, audio: stereo},
		{name: "surround-downmix", file: "surround.mkv", inputs: av(fmVideo, fmMono), gen: fmSurround, audio: stereo},
		{name: "surround-kept", file: "surround-kept.mkv", inputs: av(fmVideo, fmMono), gen: fmSurround, audio: []int{2, 6}, surround: true},
		{name: "languages", file: "languages.mkv", inputs: av(fmVideo, append(append([]string(nil), fmMono...), "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100:duration=2")),
			gen: []string{"-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
				"-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"},
			audio: []int{2, 2}, languages: []string{"eng", "fra"}},
		{name: "no-audio", file: "silent.mp4", inputs: fmVideo, gen: []string{"-c:v", "libx264", "-preset", "ultrafast"}},
		{name: "audio-only", file: "audio.m4a", inputs: fmStereo, gen: []string{"-c:a", "aac"}, wantW: -1, audio: stereo},
		// A Matroska codec id ffmpeg does not know.
		{name: "unsupported-codec", file: "unknown.mkv", fails: "unsupported codec",
			make: func(t *testing.T, path string, made map[string]string) {
				mkv := path + ".tmp.mkv"
				fmFFmpeg(t, "-i", made["mp4-h264"], "-c", "copy", mkv)
				data, err := os.ReadFile(mkv)
				if err != nil || !bytes.Contains(data, []byte("V_MPEG4/ISO/AVC")) {
					t.Fatalf("no H.264 codec id in %s (%v)", mkv, err)
				}
				if err := os.WriteFile(path, bytes.Replace(data, []byte("V_MPEG4/ISO/AVC"), []byte("V_VODFLEET/NONE"), 1), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
	}
}

// fmSurround turns the tone into 5.1 AC-3 (every channel a copy).
var fmSurround = []string{"-filter_complex", "[1:a]pan=5.1(side)|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[a]", "-map", "0:v", "-map", "[a]",
	"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "ac3"}

// fmFFmpeg runs ffmpeg quietly, failing the test on error.
func fmFFmpeg(t *testing.T, args ...string) {
	t.Helper()
	bin, _ := testmedia.Tools(t)
	if b, err := exec.Command(bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", args, err, b)
	}
}

// TestFormatMatrix generates one small source per case of the input
// format matrix, submits them all to one cluster at once and checks each
// asset: the job succeeded, every track decodes without an ffmpeg error,
// video and audio last as long as the source (0.2 s) and as each other
// (0.1 s), the video is 8-bit 4:2:0 at a constant rate with square
// pixels at the expected size and no rotation left, audio tracks have the
// expected channels and languages, interlaced sources were deinterlaced
// (the planner's decision for video and thumbnails, and idet on the
// output), and the undecodable source fails with a clear reason.
func TestFormatMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	began := time.Now()
	cfg := LoopbackConfig(t.TempDir())
	cfg.AgentSlots = 3
	c, err := Start(cfg, testmedia.Logger(t, hclog.Warn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	st := storage.NewClient(dialT(t, c, c.Storage.GRPCAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	cases := formatCases()
	made := map[string]string{}
	submitted := map[string]*v1.Job{}
	for _, fc := range cases {
		path := filepath.Join(dir, fc.file)
		if fc.make != nil {
			fc.make(t, path, made)
		} else {
			inputs := fc.inputs
			if inputs == nil {
				// The tone is made stereo by the case's "-ac 2".
				inputs = append(append([]string(nil), fmVideo...), fmMono...)
			}
			fmFFmpeg(t, append(append(append([]string(nil), inputs...), fc.gen...), path)...)
		}
		made[fc.name] = path
		h := fc.height
		if h == 0 {
			h = 108
		}
		submitted[fc.name] = submitEncode(t, ctx, jobs, st, path, 1, &v1.EncodeOptions{
			Renditions:   []*v1.RenditionRequest{{Height: h, Name: "main", VideoBitrate: 200_000}},
			KeepSurround: fc.surround,
			// Thumbnails only where they must be deinterlaced too.
			Outputs: &v1.Outputs{Thumbnails: proto.Bool(fc.deinterlace != ""), Dash: proto.Bool(false)},
		})
	}
	t.Logf("generated and submitted %d sources in %s", len(cases), time.Since(began).Round(time.Millisecond))

	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			end := waitJob(t, ctx, jobs, submitted[fc.name].GetId())
			j := end.GetJob()
			if fc.fails != "" {
				if j.GetState() != v1.JobState_JOB_STATE_FAILED || !strings.Contains(j.GetError(), fc.fails) {
					t.Fatalf("job ended %s with %q, want FAILED saying %q", j.GetState(), j.GetError(), fc.fails)
				}
				t.Logf("job error: %s", j.GetError())
				return
			}
			if j.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
				t.Fatalf("job ended %s: %s", j.GetState(), j.GetError())
			}
			checkFormatCase(t, c, fc, made[fc.name], end)
		})
	}
	t.Logf("format matrix took %s", time.Since(began).Round(time.Millisecond))
}

// checkFormatCase checks the asset of one succeeded case, track by track
// (each track's media playlist through the edge).
func checkFormatCase(t *testing.T, c *Cluster, fc formatCase, src string, end *v1.WatchJobResponse) {
	t.Helper()
	j := end.GetJob()
	base := c.EdgeURL() + "/v/" + j.GetAssetId() + "/"
	var probe *v1.ProbeResult
	var videoDirs, audioDirs []string
	var languages []string
	for _, tk := range end.GetTasks() {
		s := tk.GetSpec()
		switch s.GetKind() {
		case v1.TaskKind_TASK_KIND_PROBE:
			probe = tk.GetResult().GetProbe()
		case v1.TaskKind_TASK_KIND_ENCODE_VIDEO, v1.TaskKind_TASK_KIND_THUMBNAILS:
			if s.GetKind() == v1.TaskKind_TASK_KIND_ENCODE_VIDEO {
				videoDirs = append(videoDirs, "v"+s.GetRendition().GetName())
			}
			if s.GetDeinterlace() != fc.deinterlace {
				t.Errorf("%s deinterlaces %q, want %q", tk.GetName(), s.GetDeinterlace(), fc.deinterlace)
			}
		case v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
			audioDirs = append(audioDirs, s.GetAudio().GetName())
			languages = append(languages, s.GetAudio().GetLanguage())
		}
	}
	if probe.GetHasVideo() && probe.GetFieldOrderMeasured() != fc.measured {
		t.Errorf("field order %q measured by idet: %v, want %v", probe.GetFieldOrder(), probe.GetFieldOrderMeasured(), fc.measured)
	}
	wantW, wantH := fc.wantW, fc.wantH
	if wantW == 0 {
		wantW, wantH = 192, 108
	}
	if want := map[bool]int{true: 0, false: 1}[wantW < 0]; len(videoDirs) != want {
		t.Fatalf("video tracks %v, want %d", videoDirs, want)
	}
	srcDur := fmDuration(t, src)
	// Every track decodes without an error (decodeFrames fails on any
	// ffmpeg error output) and lasts as long as the source.
	decoded := func(dir string) (map[string]any, float64) {
		url := base + dir + "/media.m3u8"
		streams, _ := probeURL(t, url)
		types, durs := streamDurations(t, url)
		if len(streams) != 1 || len(types) != 1 {
			t.Fatalf("%s: streams %v", dir, types)
		}
		if math.Abs(durs[0]-srcDur) > 0.2 {
			t.Errorf("%s lasts %.3f s, source %.3f s", dir, durs[0], srcDur)
		}
		return streams[0], durs[0]
	}
	videoDur := -1.0
	for _, dir := range videoDirs {
		v, d := decoded(dir)
		videoDur = d
		w, h := int(v["width"].(float64)), int(v["height"].(float64))
		sar, _ := v["sample_aspect_ratio"].(string)
		if w != wantW || h != wantH {
			t.Errorf("%s: %dx%d, want %dx%d", dir, w, h, wantW, wantH)
		}
		if sar != "1:1" && sar != "" && sar != "0:1" && sar != "N/A" {
			t.Errorf("%s: SAR %s, want square pixels", dir, sar)
		}
		if pf := v["pix_fmt"]; pf != "yuv420p" {
			t.Errorf("%s: pixel format %v, want yuv420p", dir, pf)
		}
		if sd, ok := v["side_data_list"]; ok {
			t.Errorf("%s: side data %v (a rotation must be applied, not signalled)", dir, sd)
		}
		// Constant rate: every sample lasts the same. (Sample durations,
		// not decoded frame times: ffmpeg 5.1's MP4 demuxer shifts the
		// times from the first fragment with negative composition
		// offsets on, which looks like a gap when the first fragment
		// has no B-frames; the fragments themselves are contiguous.)
		if lo, hi := packetDurations(t, base+dir+"/media.m3u8"); hi-lo > 1e-6 || lo <= 0 {
			t.Errorf("%s: samples last %.4f to %.4f s, want a constant rate", dir, lo, hi)
		}
	}
	if fc.vfr {
		if lo, hi := frameSteps(videoFrames(t, src)); hi-lo < 0.02 {
			t.Fatalf("source frame steps %.4f..%.4f s: the case needs a variable frame rate", lo, hi)
		}
	}
	var channels []int
	for _, dir := range audioDirs {
		a, d := decoded(dir)
		channels = append(channels, int(a["channels"].(float64)))
		if videoDur >= 0 && math.Abs(d-videoDur) > 0.1 {
			t.Errorf("%s lasts %.3f s, video %.3f s: out of sync", dir, d, videoDur)
		}
	}
	if fmt.Sprint(channels) != fmt.Sprint(fc.audio) && len(channels)+len(fc.audio) > 0 {
		t.Errorf("audio channels %v, want %v", channels, fc.audio)
	}
	if len(fc.languages) > 0 && fmt.Sprint(languages) != fmt.Sprint(fc.languages) {
		t.Errorf("audio languages %v, want %v", languages, fc.languages)
	}
	// The master playlist plays: the player's view of the whole asset.
	if types, _ := streamDurations(t, base+j.GetHlsMaster()); len(types) < len(videoDirs)+min(len(audioDirs), 1) {
		t.Errorf("master playlist decodes to streams %v", types)
	}
	t.Logf("source %.3f s, video %.3f s, audio %v; field order %q (measured %v)", srcDur, videoDur, channels, probe.GetFieldOrder(), probe.GetFieldOrderMeasured())
	if fc.deinterlace != "" {
		// idet sees combing in most frames of the source and in few of
		// the output (same size, so combing left in would show).
		if in, n := idetCombed(t, src); in*2 < n {
			t.Fatalf("source: idet finds %d of %d frames interlaced; the case needs an interlaced source", in, n)
		}
		if in, n := idetCombed(t, base+videoDirs[0]+"/media.m3u8"); in*5 > n {
			t.Errorf("output: idet finds %d of %d frames interlaced; not deinterlaced", in, n)
		}
		if streams, _ := probeURL(t, base+j.GetPoster()); len(streams) != 1 || streams[0]["codec_name"] != "mjpeg" {
			t.Errorf("poster %q: %v", j.GetPoster(), streams)
		}
	}
}

// frameSteps is the smallest and largest step between successive frame
// times (0, 0 for fewer than two frames).
func frameSteps(pts []float64) (lo, hi float64) {
	for i := 1; i < len(pts); i++ {
		d := pts[i] - pts[i-1]
		if i == 1 || d < lo {
			lo = d
		}
		hi = max(hi, d)
	}
	return lo, hi
}

// packetDurations is the shortest and longest video sample of url, in
// seconds.
func packetDurations(t *testing.T, url string) (lo, hi float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=duration_time", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	for i, f := range strings.Fields(string(out)) {
		d, err := strconv.ParseFloat(strings.Trim(f, ","), 64)
		if err != nil {
			t.Fatalf("ffprobe %s: packet duration %q", url, f)
		}
		if i == 0 || d < lo {
			lo = d
		}
		hi = max(hi, d)
	}
	return lo, hi
}

// fmDuration is the container duration of a local file.
func fmDuration(t *testing.T, path string) float64 {
	t.Helper()
	_, format := probeURL(t, path)
	d, err := strconv.ParseFloat(fmt.Sprint(format["duration"]), 64)
	if err != nil {
		t.Fatalf("%s: duration %v", path, format["duration"])
	}
	return d
}

var idetLine = regexp.MustCompile(`Single frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+) Undetermined:\s*(\d+)`)

// idetCombed runs ffmpeg's idet over the first video stream of url and
// returns how many frames it finds interlaced (single-frame detection:
// combing in that frame) out of how many.
func idetCombed(t *testing.T, url string) (interlaced, frames int) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", url, "-map", "0:v:0", "-vf", "idet", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("idet %s: %v\n%s", url, err, out)
	}
	m := idetLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("idet %s: no summary in\n%s", url, out)
	}
	n := func(b []byte) int { v, _ := strconv.Atoi(string(b)); return v }
	return n(m[1]) + n(m[2]), n(m[1]) + n(m[2]) + n(m[3]) + n(m[4])
}
