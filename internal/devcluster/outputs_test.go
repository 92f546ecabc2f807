package devcluster

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// richSource makes a 6 s MKV with video, English and French audio and a
// German SubRip subtitle track.
func richSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	srt := filepath.Join(dir, "de.srt")
	if err := os.WriteFile(srt, []byte("1\n00:00:01,000 --> 00:00:02,500\nGuten Tag\n\n2\n00:00:03,000 --> 00:00:04,000\nAuf Wiedersehen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rich.mkv")
	cmd := exec.Command("ffmpeg", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25:duration=6",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
		"-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100:duration=6",
		"-i", srt,
		"-map", "0", "-map", "1", "-map", "2", "-map", "3",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt",
		"-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:s:0", "language=ger",
		out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make source: %v\n%s", err, b)
	}
	return out
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}

// probeURL runs ffprobe on url and returns its JSON streams and format.
func probeURL(t *testing.T, url string) (streams []map[string]any, format map[string]any) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var pj struct {
		Streams []map[string]any `json:"streams"`
		Format  map[string]any   `json:"format"`
	}
	if err := json.Unmarshal(out, &pj); err != nil {
		t.Fatal(err)
	}
	return pj.Streams, pj.Format
}

// TestEveryOutput submits a source with two audio languages and subtitles
// asking for HLS with MPEG-TS segments, DASH, MP4 downloads, thumbnails
// and subtitles, with an H.264 and an HEVC rendition, and checks every
// output through the edge.
func TestEveryOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src := richSource(t)
	job := submitEncode(t, ctx, jobs, st, src, 2, &v1.EncodeOptions{
		Renditions: []*v1.RenditionRequest{{Height: 270, Name: "hd"}, {Height: 180, Codec: v1.VideoCodec_VIDEO_CODEC_HEVC, Name: "small"}},
		Outputs:    &v1.Outputs{Mp4: true, HlsSegments: v1.SegmentFormat_SEGMENT_FORMAT_TS},
	})
	end := waitJob(t, ctx, jobs, job.GetId())
	j := end.GetJob()
	if j.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", j.GetState(), j.GetError())
	}
	base := c.EdgeURL() + "/v/" + j.GetAssetId() + "/"
	master := fetch(t, base+j.GetHlsMaster())
	for _, want := range []string{"ts/hd/media.m3u8", "ts/small/media.m3u8", `TYPE=SUBTITLES`, `LANGUAGE="de"`, "hvc1.", "avc1.", "com.vodfleet.thumbnails"} {
		if !strings.Contains(master, want) {
			t.Errorf("master playlist lacks %q:\n%s", want, master)
		}
	}
	// The TS rendition plays with its audio.
	types, durs := streamDurations(t, base+"ts/hd/media.m3u8")
	if len(types) != 2 {
		t.Fatalf("TS rendition streams %v", types)
	}
	for i := range types {
		if durs[i] < 5.8 || durs[i] > 6.2 {
			t.Errorf("TS %s decodes to %.3f s", types[i], durs[i])
		}
	}
	// DASH carries both audio languages and the subtitles.
	mpd := fetch(t, base+j.GetDashManifest())
	for _, want := range []string{`lang="en"`, `lang="fr"`, `text/vtt`, `hvc1`, `image/jpeg`} {
		if !strings.Contains(mpd, want) {
			t.Errorf("MPD lacks %q", want)
		}
	}
	// MP4 downloads: progressive, one video and one audio stream, 6 s.
	if len(j.GetMp4()) != 2 {
		t.Fatalf("mp4 downloads %v", j.GetMp4())
	}
	for _, m := range j.GetMp4() {
		streams, format := probeURL(t, base+m)
		if len(streams) != 2 || !strings.Contains(format["format_name"].(string), "mp4") {
			t.Errorf("%s: %d streams, format %v", m, len(streams), format["format_name"])
		}
	}
	// Thumbnails: poster and a WebVTT track pointing into the sprite.
	if streams, _ := probeURL(t, base+j.GetPoster()); len(streams) != 1 || streams[0]["codec_name"] != "mjpeg" {
		t.Errorf("poster %v", streams)
	}
	vtt := fetch(t, base+j.GetThumbnailsVtt())
	if !strings.HasPrefix(vtt, "WEBVTT") || !strings.Contains(vtt, "sprite.jpg#xywh=") {
		t.Errorf("thumbnail track:\n%s", vtt)
	}
	// Subtitles carried over as WebVTT.
	var sub string
	for _, tk := range end.GetTasks() {
		if tr := tk.GetResult().GetSubtitles(); tr != nil && len(tr.GetTracks()) > 0 {
			sub = tr.GetTracks()[0].GetPath()
		}
	}
	if sub == "" {
		t.Fatal("no subtitle track")
	}
	if body := fetch(t, base+sub); !strings.Contains(body, "Guten Tag") {
		t.Errorf("subtitles:\n%s", body)
	}
}
