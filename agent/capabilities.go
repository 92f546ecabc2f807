package agent

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// ErrHWAccelUnavailable means the agent was told to use a hardware path
// (--hwaccel) that does not work on this machine: its ffmpeg lacks the
// encoder, or the test encode failed (no GPU, driver or render node). The
// agent refuses to start rather than announce a path it cannot run.
var ErrHWAccelUnavailable = errors.New("hardware encoder unavailable")

// LabelHWAccel is the label naming the agent's hardware path ("nvenc",
// "vaapi", "qsv"); absent on software-only agents.
const LabelHWAccel = "hwaccel"

// EncoderProber finds what the agent's ffmpeg can encode. The default
// runs ffmpeg; tests inject a capability list, since a machine without a
// GPU cannot exercise the hardware paths.
type EncoderProber interface {
	// Encoders lists the encoders ffmpeg is built with.
	Encoders(ctx context.Context) (map[string]bool, error)
	// TryEncode runs a tiny test encode of codec c on path h (HWNone:
	// the software encoder), which fails when the encoder is listed but
	// unusable.
	TryEncode(ctx context.Context, h ffmpeg.HWAccel, c v1.VideoCodec) error
}

// probeTimeout bounds each probe: a hardware initialisation that hangs
// must not keep the agent from starting (or failing) forever.
const probeTimeout = 30 * time.Second

// ffmpegProber is the EncoderProber of a real ffmpeg binary.
type ffmpegProber struct{ bin string }

// Encoders runs `ffmpeg -encoders`.
func (p ffmpegProber) Encoders(ctx context.Context) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return ffmpeg.Encoders(ctx, p.bin)
}

// softwareProbes remembers software test encodes per ffmpeg binary, so the
// agents of one process (`vodfleet dev`, tests) probe once.
var softwareProbes sync.Map // "bin\x00codec" -> error (nil stored as okProbe)

// okProbe stands for a successful probe in softwareProbes.
var okProbe = errors.New("ok")

// TryEncode runs ffmpeg.HWTestArgs; software results are cached.
func (p ffmpegProber) TryEncode(ctx context.Context, h ffmpeg.HWAccel, c v1.VideoCodec) error {
	key := p.bin + "\x00" + c.String()
	if h == ffmpeg.HWNone {
		if v, ok := softwareProbes.Load(key); ok {
			if v.(error) == okProbe {
				return nil
			}
			return v.(error)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.bin, ffmpeg.HWTestArgs(h, c)...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("test encode with %s: %w: %s", ffmpeg.EncoderOn(c, h), err, lastLine(out))
	}
	if h == ffmpeg.HWNone && ctx.Err() == nil {
		v := err
		if v == nil {
			v = okProbe
		}
		softwareProbes.Store(key, v)
	}
	return err
}

// lastLine is ffmpeg's error output on one line, at most 400 bytes from
// its end: with -v error, the cause (e.g. "Cannot load libcuda.so.1") and
// the consequence.
func lastLine(out []byte) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " | ")), " ")
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return s
}

// isHardwareEncoder reports whether an ffmpeg encoder name is a hardware
// one: those are announced only for the path the operator enabled.
func isHardwareEncoder(name string) bool {
	return strings.HasSuffix(name, "_nvenc") || strings.HasSuffix(name, "_vaapi") || strings.HasSuffix(name, "_qsv")
}

// capabilityLabels probes p and returns the labels the agent announces:
//   - "encoder.NAME" = "true" for the software encoders of KnownEncoders
//     its ffmpeg has; the video ones that encode video (libx264, libx265,
//     libsvtav1) only when a test encode works;
//   - with hw set, "hwaccel" = hw and "encoder.NAME" for its H.264 encoder
//     (required: an error wrapping ErrHWAccelUnavailable otherwise) and
//     its HEVC encoder (when its test encode works);
//   - "codec.h264", "codec.hevc", "codec.av1" = "true" for each codec the
//     agent can encode on some path: what encode tasks require;
//   - the operator's labels last, overriding.
//
// Hardware encoders are never announced without hw: listed is not usable.
func capabilityLabels(ctx context.Context, p EncoderProber, hw ffmpeg.HWAccel, operator map[string]string, log hclog.Logger) (map[string]string, error) {
	labels := map[string]string{}
	have, err := p.Encoders(ctx)
	if err != nil {
		if hw != ffmpeg.HWNone {
			return nil, fmt.Errorf("hwaccel %s: %w: %w", hw, err, ErrHWAccelUnavailable)
		}
		log.Error("cannot list ffmpeg encoders; encode tasks will not be offered", "error", err)
	}
	software := map[string]v1.VideoCodec{}
	for _, c := range ffmpeg.VideoCodecList {
		software[ffmpeg.EncoderFor(c)] = c
	}
	tested := trySoftware(ctx, p, have, software)
	for _, e := range ffmpeg.KnownEncoders {
		if !have[e] || isHardwareEncoder(e) {
			continue
		}
		if c, video := software[e]; video {
			if err := tested[e]; err != nil {
				log.Warn("encoder listed but not working; not announced", "encoder", e, "error", err)
				continue
			}
			labels[ffmpeg.CodecLabel(c)] = "true"
		}
		labels["encoder."+e] = "true"
	}
	if hw != ffmpeg.HWNone {
		for _, c := range []v1.VideoCodec{v1.VideoCodec_VIDEO_CODEC_H264, v1.VideoCodec_VIDEO_CODEC_HEVC} {
			e := hw.Encoder(c)
			err := fmt.Errorf("ffmpeg has no %s encoder", e)
			if have[e] {
				err = p.TryEncode(ctx, hw, c)
			}
			if err != nil && c == v1.VideoCodec_VIDEO_CODEC_H264 {
				return nil, fmt.Errorf("hwaccel %s: %w: %w", hw, err, ErrHWAccelUnavailable)
			}
			if err != nil {
				log.Warn("hardware encoder not working; its codec stays on software", "encoder", e, "error", err)
				continue
			}
			labels["encoder."+e] = "true"
			labels[ffmpeg.CodecLabel(c)] = "true"
		}
		labels[LabelHWAccel] = string(hw)
	}
	for k, v := range operator {
		labels[k] = v
	}
	return labels, nil
}

// trySoftware test-encodes the listed software video encoders at once
// (each is a separate ffmpeg run) and returns their errors by name.
func trySoftware(ctx context.Context, p EncoderProber, have map[string]bool, software map[string]v1.VideoCodec) map[string]error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]error{}
	for e, c := range software {
		if !have[e] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.TryEncode(ctx, ffmpeg.HWNone, c)
			mu.Lock()
			out[e] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
