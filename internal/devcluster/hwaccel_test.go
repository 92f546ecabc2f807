package devcluster

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vodfleet/vodfleet/agent"
	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/node"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// agentLabels returns the labels of the cluster's agents, by id, once
// every agent is connected.
func agentLabels(t *testing.T, ctx context.Context, c *Cluster, n int) map[string]map[string]string {
	t.Helper()
	cluster := v1.NewClusterServiceClient(dialT(t, c, c.Coordinator.Addr))
	out := map[string]map[string]string{}
	poll(t, ctx, func() bool {
		info, err := cluster.GetCluster(ctx, &v1.GetClusterRequest{})
		if err != nil || len(info.GetAgents()) < n {
			return false
		}
		for _, a := range info.GetAgents() {
			out[a.GetId()] = a.GetLabels()
		}
		return true
	})
	return out
}

// TestSoftwareCodecLadder runs an H.264 + HEVC ladder on software agents:
// they announce the codec labels of the encoders whose test encode
// worked, the encodes require them, and the job succeeds with both
// codecs; no hardware encoder is announced without --hwaccel.
func TestSoftwareCodecLadder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, jobs, st := startCluster(t)
	for id, labels := range agentLabels(t, ctx, c, 2) {
		if labels["codec.h264"] != "true" || labels["codec.hevc"] != "true" || labels["encoder.libx265"] != "true" {
			t.Errorf("agent %s labels %v lack codec.h264/codec.hevc", id, labels)
		}
		for k := range labels {
			if strings.HasSuffix(k, "_nvenc") || strings.HasSuffix(k, "_vaapi") || strings.HasSuffix(k, "_qsv") || k == agent.LabelHWAccel {
				t.Errorf("agent %s announces %s without --hwaccel", id, k)
			}
		}
	}
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 2})
	job := submitEncode(t, ctx, jobs, st, src, 1, &v1.EncodeOptions{Renditions: []*v1.RenditionRequest{
		{Name: "avc", Height: 180, Codec: v1.VideoCodec_VIDEO_CODEC_H264},
		{Name: "hevc", Height: 90, Codec: v1.VideoCodec_VIDEO_CODEC_HEVC},
	}})
	end := waitJob(t, ctx, jobs, job.GetId())
	if end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", end.GetJob().GetState(), end.GetJob().GetError())
	}
	want := map[string]string{"video-avc": "codec.h264", "video-hevc": "codec.hevc"}
	for _, tk := range end.GetTasks() {
		label, ok := want[tk.GetName()]
		if !ok {
			continue
		}
		delete(want, tk.GetName())
		if tk.GetSpec().GetRequires()[label] != "true" {
			t.Errorf("%s requires %v, want %s", tk.GetName(), tk.GetSpec().GetRequires(), label)
		}
		codecs := tk.GetResult().GetTrack().GetCodecs()
		if label == "codec.hevc" && !strings.HasPrefix(codecs, "hvc1.") || label == "codec.h264" && !strings.HasPrefix(codecs, "avc1.") {
			t.Errorf("%s produced %q", tk.GetName(), codecs)
		}
	}
	if len(want) != 0 {
		t.Errorf("video tasks missing: %v", want)
	}
}

// allWorking is an injected capability list: ffmpeg with every encoder,
// every test encode passing (a machine with an NVIDIA GPU).
type allWorking struct{}

func (allWorking) Encoders(context.Context) (map[string]bool, error) {
	m := map[string]bool{}
	for _, e := range ffmpeg.KnownEncoders {
		m[e] = true
	}
	return m, nil
}

func (allWorking) TryEncode(context.Context, ffmpeg.HWAccel, v1.VideoCodec) error { return nil }

// TestHWAccelAgentAnnouncesLabels: agents started with --hwaccel nvenc and
// a probe that passes announce the hardware path to the coordinator.
func TestHWAccelAgentAnnouncesLabels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := LoopbackConfig(t.TempDir())
	cfg.Agents = 1
	cfg.Agent.HWAccel, cfg.Agent.Prober = ffmpeg.HWNVENC, allWorking{}
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	labels := agentLabels(t, ctx, c, 1)["agent-1"]
	for k, v := range map[string]string{"hwaccel": "nvenc", "encoder.h264_nvenc": "true", "encoder.hevc_nvenc": "true", "codec.h264": "true", "codec.hevc": "true"} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (all: %v)", k, labels[k], v, labels)
		}
	}
	if labels["encoder.h264_vaapi"] != "" {
		t.Errorf("vaapi encoder announced on an nvenc agent: %v", labels)
	}
}

// TestHWAccelAgentRefusesToStart: with the real ffmpeg and no render node,
// an agent told to use VAAPI does not start.
func TestHWAccelAgentRefusesToStart(t *testing.T) {
	if _, err := os.Stat(ffmpeg.VAAPIDevice); err == nil {
		t.Skipf("%s exists: VAAPI may work here", ffmpeg.VAAPIDevice)
	}
	bin, probe := testmedia.Tools(t)
	n, err := node.StartAgent(agent.Config{ID: "hw", Coordinators: []string{"127.0.0.1:1"}, WorkDir: t.TempDir(),
		FFmpeg: bin, FFprobe: probe, HWAccel: ffmpeg.HWVAAPI,
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}, testmedia.Logger(t, hclog.Info))
	if err == nil {
		_ = n.Close()
		t.Fatal("agent with an unusable --hwaccel vaapi started")
	}
	if !errors.Is(err, agent.ErrHWAccelUnavailable) || !strings.Contains(err.Error(), "h264_vaapi") {
		t.Errorf("error %v, want ErrHWAccelUnavailable naming h264_vaapi", err)
	}
}
