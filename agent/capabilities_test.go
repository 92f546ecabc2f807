package agent

import (
	"context"
	"errors"
	"maps"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// fakeProber is an injected capability list: the encoders ffmpeg lists and
// the test encodes that fail ("h264_nvenc", "libsvtav1", ...).
type fakeProber struct {
	listed []string
	broken []string
	mu     sync.Mutex
	tried  []string
}

func (p *fakeProber) Encoders(context.Context) (map[string]bool, error) {
	m := map[string]bool{}
	for _, e := range p.listed {
		m[e] = true
	}
	return m, nil
}

func (p *fakeProber) TryEncode(_ context.Context, h ffmpeg.HWAccel, c v1.VideoCodec) error {
	e := ffmpeg.EncoderOn(c, h)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tried = append(p.tried, e)
	if slices.Contains(p.broken, e) {
		return errors.New("Cannot load libcuda.so.1")
	}
	return nil
}

// everything is what a distribution ffmpeg lists: software and hardware.
var everything = []string{"libx264", "libx265", "libsvtav1", "aac", "h264_nvenc", "hevc_nvenc", "h264_vaapi", "hevc_vaapi", "h264_qsv", "hevc_qsv"}

func testAgent(t *testing.T, hw ffmpeg.HWAccel, p EncoderProber) *Agent {
	t.Helper()
	a, err := New(Config{ID: "hw-test", Coordinators: []string{"127.0.0.1:1"}, WorkDir: t.TempDir(),
		HWAccel: hw, Prober: p, Labels: map[string]string{"gpu": "nvidia"},
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}, testmedia.Logger(t, hclog.Debug))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestProbeSoftwareOnly(t *testing.T) {
	p := &fakeProber{listed: everything, broken: []string{"libsvtav1"}}
	a := testAgent(t, ffmpeg.HWNone, p)
	if err := a.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Listed hardware encoders are not announced (nor test-encoded)
	// without --hwaccel; a software encoder whose test fails is left out
	// with its codec.
	want := map[string]string{"encoder.libx264": "true", "encoder.libx265": "true", "encoder.aac": "true",
		"codec.h264": "true", "codec.hevc": "true", "gpu": "nvidia"}
	if got := a.Labels(); !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	slices.Sort(p.tried)
	if !slices.Equal(p.tried, []string{"libsvtav1", "libx264", "libx265"}) {
		t.Errorf("test encodes %v, want the three software video encoders", p.tried)
	}
	for _, c := range ffmpeg.VideoCodecList {
		if h := a.hwFor(c); h != ffmpeg.HWNone {
			t.Errorf("%s encoded on %q, want software", c, h)
		}
	}
}

func TestProbeHWAccelAnnounces(t *testing.T) {
	p := &fakeProber{listed: everything}
	a := testAgent(t, ffmpeg.HWNVENC, p)
	if err := a.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := a.Labels()
	for k, v := range map[string]string{"hwaccel": "nvenc", "encoder.h264_nvenc": "true", "encoder.hevc_nvenc": "true",
		"codec.h264": "true", "codec.hevc": "true", "codec.av1": "true", "encoder.libx264": "true"} {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, got[k], v, got)
		}
	}
	for _, other := range []string{"encoder.h264_vaapi", "encoder.hevc_qsv"} {
		if _, ok := got[other]; ok {
			t.Errorf("%s announced on an nvenc agent", other)
		}
	}
	if h := a.hwFor(v1.VideoCodec_VIDEO_CODEC_H264); h != ffmpeg.HWNVENC {
		t.Errorf("H.264 on %q, want nvenc", h)
	}
	if h := a.hwFor(v1.VideoCodec_VIDEO_CODEC_AV1); h != ffmpeg.HWNone {
		t.Errorf("AV1 on %q, want software", h)
	}
}

// TestProbeHWAccelWithoutHEVC: a device that encodes H.264 but not HEVC
// starts; HEVC stays on libx265.
func TestProbeHWAccelWithoutHEVC(t *testing.T) {
	p := &fakeProber{listed: everything, broken: []string{"hevc_vaapi"}}
	a := testAgent(t, ffmpeg.HWVAAPI, p)
	if err := a.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := a.Labels()
	if got["encoder.h264_vaapi"] != "true" || got["codec.hevc"] != "true" || got["encoder.hevc_vaapi"] != "" {
		t.Errorf("labels %v: want h264_vaapi, no hevc_vaapi, codec.hevc from libx265", got)
	}
	if h := a.hwFor(v1.VideoCodec_VIDEO_CODEC_HEVC); h != ffmpeg.HWNone {
		t.Errorf("HEVC on %q, want software", h)
	}
}

func TestProbeHWAccelRefusesToStart(t *testing.T) {
	for name, p := range map[string]*fakeProber{
		"test encode fails": {listed: everything, broken: []string{"h264_qsv"}},
		"not in ffmpeg":     {listed: []string{"libx264", "aac"}},
	} {
		a := testAgent(t, ffmpeg.HWQSV, p)
		err := a.Probe(context.Background())
		if !errors.Is(err, ErrHWAccelUnavailable) {
			t.Errorf("%s: Probe = %v, want ErrHWAccelUnavailable", name, err)
		}
		// Run refuses too, before connecting anywhere.
		if err := a.Run(context.Background()); !errors.Is(err, ErrHWAccelUnavailable) {
			t.Errorf("%s: Run = %v, want ErrHWAccelUnavailable", name, err)
		}
	}
}

func TestConfigValidatesHWAccel(t *testing.T) {
	c := Config{ID: "a", Coordinators: []string{"x:1"}, WorkDir: "w", HWAccel: "cuda",
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}.WithDefaults()
	if err := c.Validate(); err == nil {
		t.Error("hwaccel cuda accepted")
	}
	c.HWAccel = ffmpeg.HWQSV
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestProbeRealFFmpeg probes the installed ffmpeg: software encoders that
// work are announced, listed hardware encoders are not; and a VAAPI path
// on a machine without a render node refuses to start.
func TestProbeRealFFmpeg(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	a := testAgent(t, ffmpeg.HWNone, ffmpegProber{bin: bin})
	if err := a.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := a.Labels()
	if got["codec.h264"] != "true" || got["encoder.libx264"] != "true" {
		t.Errorf("labels %v lack libx264", got)
	}
	for k := range got {
		if isHardwareEncoder(k) {
			t.Errorf("hardware encoder %s announced without --hwaccel", k)
		}
	}
	if _, err := os.Stat(ffmpeg.VAAPIDevice); err == nil {
		return // this machine may have a working VAAPI device
	}
	a = testAgent(t, ffmpeg.HWVAAPI, ffmpegProber{bin: bin})
	if err := a.Probe(context.Background()); !errors.Is(err, ErrHWAccelUnavailable) {
		t.Errorf("vaapi without %s: %v, want ErrHWAccelUnavailable", ffmpeg.VAAPIDevice, err)
	}
}
