package ffmpeg

import (
	"errors"
	"fmt"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// HWAccel names a hardware encode path an agent may be told to use
// (--hwaccel). The zero value is the software path (libx264, libx265,
// libsvtav1). A hardware path encodes H.264 and HEVC renditions on the
// device; AV1 stays on libsvtav1.
//
// Every path decodes and scales on the CPU, exactly like the software
// path, and only the encode runs on the device: frames are uploaded after
// the scaler (VAAPI, QSV) or handed to the encoder in system memory
// (NVENC, which uploads them itself). That keeps one filter graph shape
// for every path, so the frame timing, and with it the -r/-g/-keyint_min
// and -force_key_frames keyframe grid, is identical: segments of a
// hardware rendition align with software renditions of the same job.
type HWAccel string

// The hardware paths.
const (
	// HWNone is the software path.
	HWNone HWAccel = ""
	// HWNVENC encodes with NVIDIA NVENC (h264_nvenc, hevc_nvenc).
	HWNVENC HWAccel = "nvenc"
	// HWVAAPI encodes through VA-API (h264_vaapi, hevc_vaapi) on
	// VAAPIDevice: Intel and AMD GPUs on Linux.
	HWVAAPI HWAccel = "vaapi"
	// HWQSV encodes with Intel Quick Sync (h264_qsv, hevc_qsv).
	HWQSV HWAccel = "qsv"
)

// VAAPIDevice is the DRM render node the VAAPI path opens.
const VAAPIDevice = "/dev/dri/renderD128"

// ErrUnknownHWAccel means a --hwaccel value names no known path.
var ErrUnknownHWAccel = errors.New("unknown hwaccel")

// ParseHWAccel parses a --hwaccel value: "", "none", "nvenc", "vaapi" or
// "qsv".
func ParseHWAccel(s string) (HWAccel, error) {
	switch h := HWAccel(strings.ToLower(strings.TrimSpace(s))); h {
	case "none":
		return HWNone, nil
	case HWNone, HWNVENC, HWVAAPI, HWQSV:
		return h, nil
	}
	return HWNone, fmt.Errorf("hwaccel %q is not one of nvenc, vaapi, qsv: %w", s, ErrUnknownHWAccel)
}

// Encoder returns the hardware encoder of codec c on path h, or "" when
// the path has none for c (AV1, or the software path).
func (h HWAccel) Encoder(c vodfleetv1.VideoCodec) string {
	if h == HWNone || c == vodfleetv1.VideoCodec_VIDEO_CODEC_AV1 {
		return ""
	}
	prefix := "h264_"
	if c == vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC {
		prefix = "hevc_"
	}
	return prefix + string(h)
}

// EncoderOn returns the encoder VideoArgs uses for codec c on path h: the
// hardware encoder when h has one for c, else the software one
// (EncoderFor).
func EncoderOn(c vodfleetv1.VideoCodec, h HWAccel) string {
	if e := h.Encoder(c); e != "" {
		return e
	}
	return EncoderFor(c)
}

// CodecLabel is the capability label ("codec.h264", "codec.hevc",
// "codec.av1") an agent announces when it can encode c on some path,
// software or hardware; encode tasks require it.
func CodecLabel(c vodfleetv1.VideoCodec) string {
	switch c {
	case vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC:
		return "codec.hevc"
	case vodfleetv1.VideoCodec_VIDEO_CODEC_AV1:
		return "codec.av1"
	}
	return "codec.h264"
}

// VideoCodecList lists the rendition codecs, in the order capability labels
// are derived.
var VideoCodecList = []vodfleetv1.VideoCodec{
	vodfleetv1.VideoCodec_VIDEO_CODEC_H264, vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC, vodfleetv1.VideoCodec_VIDEO_CODEC_AV1,
}

// hwInitArgs are the global options opening h's device, placed before -i:
// VAAPI names its render node, QSV creates a device ("hw") that hwupload
// uses. NVENC opens the GPU itself.
func hwInitArgs(h HWAccel) []string {
	switch h {
	case HWVAAPI:
		return []string{"-vaapi_device", VAAPIDevice}
	case HWQSV:
		return []string{"-init_hw_device", "qsv=hw", "-filter_hw_device", "hw"}
	}
	return nil
}

// deviceOf is the hardware path whose device an encode of jobs opens: the
// first one a job's rendition is encoded on; HWNone when all are software
// (AV1 renditions, or no HWAccel).
func deviceOf(jobs []VideoJob) HWAccel {
	for _, j := range jobs {
		if j.HWAccel.Encoder(j.Rendition.GetCodec()) != "" {
			return j.HWAccel
		}
	}
	return HWNone
}

// hwUploadFilter is what follows the scaler when codec c is encoded on h:
// conversion to NV12 and upload to the device for VAAPI and QSV (QSV
// needs extra surfaces in its pool for the encoder's lookahead), nothing
// for NVENC and software, which take yuv420p frames (-pix_fmt).
func hwUploadFilter(h HWAccel, c vodfleetv1.VideoCodec) string {
	if h.Encoder(c) == "" {
		return ""
	}
	switch h {
	case HWVAAPI:
		return ",format=nv12,hwupload"
	case HWQSV:
		return ",format=nv12,hwupload=extra_hw_frames=64,format=qsv"
	}
	return ""
}

// usesSoftwareFrames reports whether the encoder of c on h takes frames in
// system memory, so the output gets -pix_fmt yuv420p; VAAPI and QSV
// encoders take device frames from the upload filter instead.
func usesSoftwareFrames(h HWAccel, c vodfleetv1.VideoCodec) bool {
	return hwUploadFilter(h, c) == ""
}

// hwCodecArgs selects the hardware encoder of r's codec on h (which must
// have one, see HWAccel.Encoder). Keyframes come only from the shared
// keyframe options: -g/-keyint_min set the GOP length and
// -force_key_frames puts one at every segment boundary, made IDR frames
// (forced-idr), with no scene-cut keyframes and closed GOPs, so segments
// start with an IDR frame as on the software path. Profile and level are
// passed as the rendition asks, levels as level_idc (4.0 → 40), which
// all three encoders accept. Bitrate options are added by the caller.
func hwCodecArgs(r *vodfleetv1.Rendition, h HWAccel, preset string) []string {
	enc := h.Encoder(r.GetCodec())
	hevc := r.GetCodec() == vodfleetv1.VideoCodec_VIDEO_CODEC_HEVC
	args := []string{"-c:v", enc}
	switch h {
	case HWNVENC:
		// p4 is NVENC's balanced preset; vbr honours -b:v with the
		// -maxrate/-bufsize VBV.
		args = append(args, "-preset", "p4", "-rc", "vbr", "-no-scenecut", "1", "-forced-idr", "1")
	case HWQSV:
		args = append(args, "-preset", qsvPreset(preset), "-forced_idr", "1", "-flags", "+cgop")
	case HWVAAPI:
		// h264_vaapi and hevc_vaapi turn every forced keyframe into an
		// IDR frame and use closed GOPs; the rate control mode follows
		// -b:v/-maxrate (VBR when both are set).
	}
	if hevc {
		return append(args, "-profile:v", "main", "-tag:v", "hvc1")
	}
	if p := hwProfile(h, r.GetProfile()); p != "" {
		args = append(args, "-profile:v", p)
	}
	if l := r.GetLevel(); l != "" {
		args = append(args, "-level:v", itoa(int64(levelIDC(l))))
	}
	return args
}

// hwProfile names H.264 profile p the way h's encoder spells it: VAAPI
// only has constrained baseline, which is what H264Codecs announces for
// "baseline" anyway.
func hwProfile(h HWAccel, p string) string {
	p = strings.ToLower(p)
	if h == HWVAAPI && p == "baseline" {
		return "constrained_baseline"
	}
	return p
}

// qsvPreset maps an x264 preset name to a QSV preset (veryfast to
// veryslow).
func qsvPreset(x264 string) string {
	switch x264 {
	case "ultrafast", "superfast", "veryfast":
		return "veryfast"
	case "faster", "fast", "medium", "slow", "slower", "veryslow":
		return x264
	case "placebo":
		return "veryslow"
	}
	return "medium"
}

// HWTestArgs returns the ffmpeg arguments of a tiny test encode (a tenth
// of a second of a 256x144 test pattern, discarded) with the encoder of
// codec c on path h, built from the same pieces as a real encode: the
// device opening, the upload filter and the encoder options. An encoder
// listed by `ffmpeg -encoders` may still be unusable (NVENC without a GPU
// or driver, VAAPI without a render node); this run is what tells.
func HWTestArgs(h HWAccel, c vodfleetv1.VideoCodec) []string {
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error"}
	if h.Encoder(c) != "" {
		args = append(args, hwInitArgs(h)...)
	}
	args = append(args, "-f", "lavfi", "-i", "testsrc2=s=256x144:r=25:d=0.1",
		"-vf", "scale=256:144,setsar=1"+hwUploadFilter(h, c))
	r := &vodfleetv1.Rendition{Codec: c, Width: 256, Height: 144}
	if usesSoftwareFrames(h, c) {
		args = append(args, "-pix_fmt", "yuv420p")
	}
	if h.Encoder(c) != "" {
		args = append(args, hwCodecArgs(r, h, DefaultPreset)...)
	} else {
		args = append(args, codecArgs(r, DefaultPreset, 0)...)
	}
	return append(args, "-f", "null", "-")
}
