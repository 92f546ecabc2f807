package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestLoadSpecYAMLAndJSON(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(yml, []byte(`
ladder: mobile
segment_seconds: 2
priority: PRIORITY_HIGH
source: {url: "https://example.com/a.mp4"}
encode:
  codec: VIDEO_CODEC_HEVC
  chunk_seconds: 30
  renditions:
    - {height: 720, video_bitrate: 3000000}
    - {name: low, height: 360, codec: VIDEO_CODEC_AV1}
  outputs: {hls_segments: SEGMENT_FORMAT_TS, mp4: true, dash: false}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := loadSpec(yml)
	if err != nil {
		t.Fatal(err)
	}
	e := req.GetEncode()
	if req.GetLadder() != "mobile" || req.GetSegmentSeconds() != 2 || req.GetPriority() != v1.Priority_PRIORITY_HIGH ||
		req.GetSource().GetUrl() != "https://example.com/a.mp4" || e.GetCodec() != v1.VideoCodec_VIDEO_CODEC_HEVC ||
		e.GetChunkSeconds() != 30 || len(e.GetRenditions()) != 2 || e.GetRenditions()[1].GetCodec() != v1.VideoCodec_VIDEO_CODEC_AV1 ||
		!e.GetOutputs().GetMp4() || e.GetOutputs().Dash == nil || e.GetOutputs().GetDash() || e.GetOutputs().Hls != nil {
		t.Fatalf("spec %v", req)
	}
	js := filepath.Join(dir, "job.json")
	if err := os.WriteFile(js, []byte(`{"encode": {"maxFrameRate": 25, "outputs": {"thumbnails": false}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if req, err = loadSpec(js); err != nil || req.GetEncode().GetMaxFrameRate() != 25 || req.GetEncode().GetOutputs().GetThumbnails() {
		t.Fatalf("json spec %v %v", req, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("encode:\n  chunk_secs: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSpec(bad); err == nil || !strings.Contains(err.Error(), "chunk_secs") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestEncodeFlagsOverrideSpec(t *testing.T) {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	var ef encodeFlags
	ef.register(fs)
	err := fs.Parse([]string{"--rendition", "720", "--rendition", "height=360,bitrate=800k,codec=av1,name=low",
		"--codec", "hevc", "--chunk-seconds", "-1", "--hls-segments", "ts", "--no-dash", "--mp4", "--audio-bitrate", "96k", "--keep-surround"})
	if err != nil {
		t.Fatal(err)
	}
	req := &v1.SubmitJobRequest{Encode: &v1.EncodeOptions{ChunkSeconds: 30, MaxFrameRate: 24}}
	if err := ef.apply(fs, req); err != nil {
		t.Fatal(err)
	}
	e := req.GetEncode()
	r := e.GetRenditions()
	if len(r) != 2 || r[0].GetHeight() != 720 || r[1].GetVideoBitrate() != 800_000 || r[1].GetCodec() != v1.VideoCodec_VIDEO_CODEC_AV1 || r[1].GetName() != "low" {
		t.Fatalf("renditions %v", r)
	}
	if e.GetCodec() != v1.VideoCodec_VIDEO_CODEC_HEVC || e.GetChunkSeconds() != -1 || e.GetMaxFrameRate() != 24 || e.GetAudioBitrate() != 96_000 || !e.GetKeepSurround() {
		t.Fatalf("encode %v", e)
	}
	o := e.GetOutputs()
	if o.GetHlsSegments() != v1.SegmentFormat_SEGMENT_FORMAT_TS || o.Dash == nil || o.GetDash() || !o.GetMp4() || o.Hls != nil {
		t.Fatalf("outputs %v", o)
	}
	for _, bad := range []string{"height=x", "width=640", "bitrate=fast", "codec=vp8,height=360", "colour=red,height=360"} {
		var rf renditionFlag
		if err := rf.Set(bad); err == nil {
			t.Errorf("--rendition %q accepted", bad)
		}
	}
}
