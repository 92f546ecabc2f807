package cluster

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// countFrames decodes the first video stream of url and counts frames.
func countFrames(t *testing.T, url string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	n := 0
	for _, c := range strings.TrimSpace(string(out)) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestChaosKillAgentDuringChunkedEncode kills an agent while chunks of a
// chunk-parallel job run: the lost chunks are retried on the other agent,
// each chunk publishes once, and the stitched rendition still has exactly
// the source's frames.
func TestChaosKillAgentDuringChunkedEncode(t *testing.T) {
	c := chaosCluster(t)
	src := clip(t)
	job := c.Submit(src, &v1.SubmitJobRequest{SegmentSeconds: 2, Encode: &v1.EncodeOptions{ChunkSeconds: 4}})
	running := c.WaitTask(job, time.Minute, "a chunk encoding", func(tk *v1.Task) bool {
		return tk.GetState() == v1.TaskState_TASK_STATE_RUNNING && tk.GetSpec().GetChunk() != nil && tk.GetProgress() > 0
	})
	victim := c.AgentByID(running.GetAgentId())
	victim.Kill()
	t.Logf("killed %s while it ran %s", running.GetAgentId(), running.GetName())
	jobs := c.WaitDone(3*time.Minute, job)
	c.CheckSucceeded(jobs)
	chunks, retried := 0, 0
	for _, tk := range jobs[job].GetTasks() {
		if tk.GetSpec().GetChunk() != nil {
			chunks++
			if tk.GetAttempt() > 1 {
				retried++
			}
		}
	}
	if chunks != 9 || retried == 0 {
		t.Fatalf("%d chunk tasks (want 9: 3 renditions x 3 chunks), %d retried (want some)", chunks, retried)
	}
	want := countFrames(t, src)
	for _, r := range []string{"720p", "480p", "360p"} {
		if got := countFrames(t, "http://"+c.EdgeAddr+"/v/"+job+"/v"+r+"/media.m3u8"); got != want {
			t.Errorf("%s: %d frames through the edge, source has %d", r, got, want)
		}
	}
}
