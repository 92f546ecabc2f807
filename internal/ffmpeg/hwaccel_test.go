package ffmpeg

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// hwJob is a chunk with preroll at a fixed frame rate: every keyframe
// option of the software path is in play.
func hwJob(c vodfleetv1.VideoCodec, h HWAccel) VideoJob {
	return VideoJob{Input: "in.mp4", Whitelist: "file",
		Rendition: &vodfleetv1.Rendition{Name: "720p", Codec: c, Width: 1280, Height: 720,
			VideoBitrate: 3_000_000, MaxBitrate: 4_500_000, Profile: "high", Level: "4.0"},
		FrameRate: 25, SegmentSeconds: 4, OutDir: "/out",
		Chunk: &Chunk{Start: 8, Duration: 8, FirstSegment: 3, Preroll: 1}, HWAccel: h}
}

// Pieces of the golden argument lists: what every path shares.
var (
	goldenInput = []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-progress", "pipe:1",
		"-protocol_whitelist", "file", "-format_whitelist",
		"mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mxf,flv,mpeg,wav,mp3,aac,ogg,flac,asf"}
	goldenSeek   = []string{"-ss", "7", "-i", "in.mp4", "-t", "9", "-output_ts_offset", "7", "-map", "0:v:0", "-an", "-sn", "-dn"}
	goldenGOP    = []string{"-r", "25", "-fps_mode", "cfr", "-g", "100", "-keyint_min", "100"}
	goldenRate   = []string{"-b:v", "3000000", "-maxrate", "4500000", "-bufsize", "9000000", "-force_key_frames", "expr:gte(t,0.999+n_forced*4)"}
	goldenOutput = []string{"-map_metadata", "-1", "-map_chapters", "-1", "-avoid_negative_ts", "disabled", "-f", "hls",
		"-hls_segment_type", "fmp4", "-hls_segment_options", "movflags=+negative_cts_offsets+frag_discont",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", "/out/seg_%05d.m4s", "-start_number", "2",
		"-hls_time", "4", "-hls_list_size", "0", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
		"-hls_init_time", "0.5", "/out/index.m3u8", "-t", "9", "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "null", "-"}
)

// golden assembles an expected argument list: the shared input options,
// init (device options before the seek), the filter chain vf, pixfmt
// (nil for device frames), the shared GOP options, the codec options and
// the shared rate, keyframe and HLS options.
func golden(init []string, vf string, pixfmt bool, codec ...string) []string {
	args := slices.Concat(goldenInput, init, goldenSeek, []string{"-vf", vf})
	if pixfmt {
		args = append(args, "-pix_fmt", "yuv420p")
	}
	return slices.Concat(args, goldenGOP, codec, goldenRate, goldenOutput)
}

// sameArgs compares argument lists field by field.
func sameArgs(t *testing.T, name string, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: arg %d = %q, want %q\ngot  %q\nwant %q", name, i, g, w, got, want)
			return
		}
	}
}

func TestVideoArgsPerPath(t *testing.T) {
	h264 := vodfleetv1.VideoCodec_VIDEO_CODEC_H264
	hevc := vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC
	av1 := vodfleetv1.VideoCodec_VIDEO_CODEC_AV1
	const sw = "scale=1280:720,setsar=1"
	vaapiInit := []string{"-vaapi_device", "/dev/dri/renderD128"}
	qsvInit := []string{"-init_hw_device", "qsv=hw", "-filter_hw_device", "hw"}
	x265 := []string{"-c:v", "libx265", "-preset", "veryfast", "-profile:v", "main", "-tag:v", "hvc1",
		"-x265-params", "scenecut=0:open-gop=0:log-level=error:keyint=100:min-keyint=100"}
	svt := []string{"-c:v", "libsvtav1", "-preset", "10", "-svtav1-params", "enable-overlays=0:keyint=100"}
	for _, tc := range []struct {
		name  string
		codec vodfleetv1.VideoCodec
		hw    HWAccel
		want  []string
	}{
		// The software path, unchanged by the hardware paths.
		{"software h264", h264, HWNone, golden(nil, sw, true, "-c:v", "libx264", "-preset", "veryfast",
			"-profile:v", "high", "-level:v", "4.0", "-sc_threshold", "0", "-x264-params", "open-gop=0", "-flags", "+cgop")},
		{"software hevc", hevc, HWNone, golden(nil, sw, true, x265...)},
		{"software av1", av1, HWNone, golden(nil, sw, true, svt...)},
		{"nvenc h264", h264, HWNVENC, golden(nil, sw, true, "-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr",
			"-no-scenecut", "1", "-forced-idr", "1", "-profile:v", "high", "-level:v", "40")},
		{"nvenc hevc", hevc, HWNVENC, golden(nil, sw, true, "-c:v", "hevc_nvenc", "-preset", "p4", "-rc", "vbr",
			"-no-scenecut", "1", "-forced-idr", "1", "-profile:v", "main", "-tag:v", "hvc1")},
		{"vaapi h264", h264, HWVAAPI, golden(vaapiInit, sw+",format=nv12,hwupload", false,
			"-c:v", "h264_vaapi", "-profile:v", "high", "-level:v", "40")},
		{"vaapi hevc", hevc, HWVAAPI, golden(vaapiInit, sw+",format=nv12,hwupload", false,
			"-c:v", "hevc_vaapi", "-profile:v", "main", "-tag:v", "hvc1")},
		{"qsv h264", h264, HWQSV, golden(qsvInit, sw+",format=nv12,hwupload=extra_hw_frames=64,format=qsv", false,
			"-c:v", "h264_qsv", "-preset", "veryfast", "-forced_idr", "1", "-flags", "+cgop", "-profile:v", "high", "-level:v", "40")},
		{"qsv hevc", hevc, HWQSV, golden(qsvInit, sw+",format=nv12,hwupload=extra_hw_frames=64,format=qsv", false,
			"-c:v", "hevc_qsv", "-preset", "veryfast", "-forced_idr", "1", "-flags", "+cgop", "-profile:v", "main", "-tag:v", "hvc1")},
		// No hardware AV1 path: AV1 stays on libsvtav1, device unopened.
		{"nvenc av1", av1, HWNVENC, golden(nil, sw, true, svt...)},
		{"qsv av1", av1, HWQSV, golden(nil, sw, true, svt...)},
	} {
		sameArgs(t, tc.name, VideoArgs(hwJob(tc.codec, tc.hw)), tc.want)
		if got, want := EncoderOn(tc.codec, tc.hw), argAfter(t, tc.want, "-c:v"); got != want {
			t.Errorf("%s: EncoderOn = %q, want %q", tc.name, got, want)
		}
	}
}

// TestMultiVideoArgsHW checks a fused ladder on a hardware path: the
// device is opened once, every branch uploads after its scaler, and each
// output keeps the software keyframe options.
func TestMultiVideoArgsHW(t *testing.T) {
	a := hwJob(vodfleetv1.VideoCodec_VIDEO_CODEC_H264, HWVAAPI)
	b := hwJob(vodfleetv1.VideoCodec_VIDEO_CODEC_H264, HWVAAPI)
	b.Rendition = &vodfleetv1.Rendition{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800_000}
	b.OutDir = "/out2"
	args := MultiVideoArgs([]VideoJob{a, b})
	if got := argAfter(t, args, "-vaapi_device"); got != VAAPIDevice || slices.Index(args, "-vaapi_device") > slices.Index(args, "-i") {
		t.Errorf("device option %q misplaced in %q", got, args)
	}
	want := "[0:v:0]split=2[s0][s1];[s0]scale=1280:720,setsar=1,format=nv12,hwupload[v0];[s1]scale=640:360,setsar=1,format=nv12,hwupload[v1]"
	if got := argAfter(t, args, "-filter_complex"); got != want {
		t.Errorf("graph %q, want %q", got, want)
	}
	joined := strings.Join(args, " ")
	if n := strings.Count(joined, "-c:v h264_vaapi"); n != 2 {
		t.Errorf("%d h264_vaapi outputs, want 2: %q", n, args)
	}
	if n := strings.Count(joined, "-g 100 -keyint_min 100"); n != 2 || strings.Contains(joined, "-pix_fmt") {
		t.Errorf("GOP options %d times (want 2) or -pix_fmt present: %q", n, args)
	}
}

// TestMultiVideoArgsMixedPaths: a fused run where only some renditions
// are on the device (AV1 stays on libsvtav1, an HEVC rendition on libx265
// when the device's HEVC encoder failed its probe) uploads only their
// branches; the device is opened once, even when the first is software.
func TestMultiVideoArgsMixedPaths(t *testing.T) {
	av1 := hwJob(vodfleetv1.VideoCodec_VIDEO_CODEC_AV1, HWQSV)
	sw := hwJob(vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC, HWNone)
	sw.OutDir = "/out2"
	hw := hwJob(vodfleetv1.VideoCodec_VIDEO_CODEC_H264, HWQSV)
	hw.Rendition.Height, hw.OutDir = 360, "/out3"
	args := MultiVideoArgs([]VideoJob{av1, sw, hw})
	if got := argAfter(t, args, "-init_hw_device"); got != "qsv=hw" || slices.Index(args, "-init_hw_device") > slices.Index(args, "-i") {
		t.Errorf("device not opened before -i: %q", args)
	}
	want := "[0:v:0]split=3[s0][s1][s2];[s0]scale=1280:720,setsar=1[v0];[s1]scale=1280:720,setsar=1[v1];" +
		"[s2]scale=1280:360,setsar=1,format=nv12,hwupload=extra_hw_frames=64,format=qsv[v2]"
	if got := argAfter(t, args, "-filter_complex"); got != want {
		t.Errorf("graph %q, want %q", got, want)
	}
	joined := strings.Join(args, " ")
	for _, enc := range []string{"-c:v libsvtav1", "-c:v libx265", "-c:v h264_qsv"} {
		if strings.Count(joined, enc) != 1 {
			t.Errorf("%s not exactly once: %q", enc, args)
		}
	}
	if n := strings.Count(joined, "-pix_fmt yuv420p"); n != 2 {
		t.Errorf("-pix_fmt on %d outputs, want the 2 software ones", n)
	}
	if got := MultiVideoArgs([]VideoJob{av1, sw}); slices.Contains(got, "-init_hw_device") {
		t.Errorf("all-software run opens the device: %q", got)
	}
}

func TestParseHWAccel(t *testing.T) {
	for in, want := range map[string]HWAccel{"": HWNone, "none": HWNone, "NVENC": HWNVENC, "vaapi": HWVAAPI, " qsv ": HWQSV} {
		if got, err := ParseHWAccel(in); err != nil || got != want {
			t.Errorf("ParseHWAccel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseHWAccel("cuda"); !errors.Is(err, ErrUnknownHWAccel) {
		t.Errorf("cuda: %v, want ErrUnknownHWAccel", err)
	}
}

// TestHWTestArgs runs the software test encodes for real and checks that
// the hardware ones are built from the same pieces as a real encode.
func TestHWTestArgs(t *testing.T) {
	bin, _ := tools(t)
	for _, c := range VideoCodecList {
		args := HWTestArgs(HWNone, c)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("%s test encode: %v\n%s", c, err, out)
		}
	}
	args := HWTestArgs(HWQSV, vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC)
	for flag, want := range map[string]string{
		"-init_hw_device": "qsv=hw", "-vf": "scale=256:144,setsar=1,format=nv12,hwupload=extra_hw_frames=64,format=qsv",
		"-c:v": "hevc_qsv", "-f": "lavfi",
	} {
		if got := argAfter(t, args, flag); got != want {
			t.Errorf("%s = %q, want %q", flag, got, want)
		}
	}
}

// encoderOptions parses `ffmpeg -h encoder=NAME`: each private option
// with its named constants (the indented lines under it).
func encoderOptions(t *testing.T, bin, name string) map[string]map[string]bool {
	t.Helper()
	out, err := exec.Command(bin, "-hide_banner", "-h", "encoder="+name).Output()
	if err != nil {
		t.Fatalf("ffmpeg -h encoder=%s: %v", name, err)
	}
	opts := map[string]map[string]bool{}
	var cur map[string]bool
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(line, "  -"):
			cur = map[string]bool{}
			opts[strings.TrimPrefix(f[0], "-")] = cur
		case strings.HasPrefix(line, "     ") && cur != nil:
			cur[f[0]] = true
		}
	}
	return opts
}

// TestHWEncoderOptionsExist checks every encoder option the hardware
// paths pass against the installed ffmpeg's own description of the
// encoder: the option exists and a named value is one of its constants.
// No GPU is needed to read it, so this catches a misspelt option that
// the golden lists would keep.
func TestHWEncoderOptionsExist(t *testing.T) {
	bin, _ := tools(t)
	listed, err := Encoders(t.Context(), bin)
	if err != nil {
		t.Fatal(err)
	}
	// Options every encoder takes (AVCodecContext), not listed per encoder.
	generic := map[string]bool{"c:v": true, "tag:v": true, "flags": true}
	checked := 0
	for _, h := range []HWAccel{HWNVENC, HWVAAPI, HWQSV} {
		for _, c := range []vodfleetv1.VideoCodec{vodfleetv1.VideoCodec_VIDEO_CODEC_H264, vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC} {
			enc := h.Encoder(c)
			if !listed[enc] {
				t.Logf("%s not in this ffmpeg; its options are not checked", enc)
				continue
			}
			opts := encoderOptions(t, bin, enc)
			for _, profile := range []string{"high", "main", "baseline"} {
				r := &vodfleetv1.Rendition{Codec: c, Profile: profile, Level: "4.1"}
				args := hwCodecArgs(r, h, "veryfast")
				for i := 0; i+1 < len(args); i += 2 {
					name := strings.TrimSuffix(strings.TrimPrefix(args[i], "-"), ":v")
					if generic[strings.TrimPrefix(args[i], "-")] {
						continue
					}
					consts, ok := opts[name]
					if !ok && name == "level" {
						// h264_qsv has no private -level: the
						// AVCodecContext one (level_idc, numeric)
						// is what it reads.
						if _, err := strconv.Atoi(args[i+1]); err != nil {
							t.Errorf("%s -level %s: the generic level is numeric", enc, args[i+1])
						}
						continue
					}
					if !ok {
						t.Errorf("%s has no option -%s (args %q)", enc, name, args)
						continue
					}
					value := args[i+1]
					if _, err := strconv.ParseFloat(value, 64); err != nil && len(consts) > 0 && !consts[value] {
						t.Errorf("%s -%s %s: not one of its values %v", enc, name, value, consts)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Log("no hardware encoder in this ffmpeg: nothing checked")
	}
}
