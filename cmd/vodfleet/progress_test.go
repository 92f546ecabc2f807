package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/coordinator"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func progressJob(state v1.JobState, progress float64) *v1.Job {
	return &v1.Job{Id: "j1", State: state, Progress: progress, EtaSeconds: 65}
}

func runningTask(name string, progress float64) *v1.Task {
	return &v1.Task{Name: name, State: v1.TaskState_TASK_STATE_RUNNING, Progress: progress, Speed: 2.5, Fps: 60, EtaSeconds: 12, AgentId: "agent-1"}
}

func TestProgressTerminalRedrawsBlock(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressView(&buf, true, 200)
	tasks := []*v1.Task{
		{Name: "probe", State: v1.TaskState_TASK_STATE_SUCCEEDED, Progress: 1},
		runningTask("video-720p", 0.5),
		runningTask("audio", 0.25),
	}
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.4), tasks)
	first := buf.String()
	if strings.Contains(first, "\033[3A") || !strings.HasPrefix(first, "\r\033[J") {
		t.Fatalf("first frame must not move up: %q", first)
	}
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(first, "\r\033[J"), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("first frame has %d lines, want job + 2 running tasks: %q", len(lines), first)
	}
	if want := "job running    [########------------]  40%  1/3 tasks  ETA 1m5s"; lines[0] != want {
		t.Errorf("job line\n got %q\nwant %q", lines[0], want)
	}
	if want := "video-720p     [##########----------]  50%  2.5x  60 fps  ETA 12s  on agent-1"; lines[1] != "  "+want {
		t.Errorf("task line\n got %q\nwant %q", lines[1], "  "+want)
	}
	if len(lines[1]) > 79 {
		t.Errorf("task line of %d columns does not fit 80", len(lines[1]))
	}
	for _, frag := range []string{"video-720p", "[##########----------]", " 50%", "2.5x", "60 fps", "ETA 12s", "on agent-1"} {
		if !strings.Contains(lines[1], frag) {
			t.Errorf("task line %q lacks %q", lines[1], frag)
		}
	}
	if strings.Contains(first, "probe") {
		t.Errorf("finished tasks get no bar: %q", first)
	}

	// An identical update draws nothing.
	buf.Reset()
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.4), tasks)
	if buf.Len() != 0 {
		t.Fatalf("identical frame redrawn: %q", buf.String())
	}

	// The next frame moves up over the three lines drawn and clears them;
	// one task finished, so the block shrinks to two lines.
	buf.Reset()
	tasks[2].State, tasks[2].Progress = v1.TaskState_TASK_STATE_SUCCEEDED, 1
	tasks[1].Progress = 0.75
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.7), tasks)
	second := buf.String()
	if !strings.HasPrefix(second, "\033[3A\r\033[J") {
		t.Fatalf("second frame must move up 3 lines and clear: %q", second)
	}
	if n := strings.Count(second, "\n"); n != 2 || !strings.Contains(second, " 75%") || !strings.Contains(second, "2/3 tasks") {
		t.Errorf("second frame: %q", second)
	}
	buf.Reset()
	p.update(progressJob(v1.JobState_JOB_STATE_SUCCEEDED, 1), tasks)
	if !strings.HasPrefix(buf.String(), "\033[2A") || strings.Count(buf.String(), "\n") != 1 || strings.Contains(buf.String(), "ETA") {
		t.Errorf("final frame: %q", buf.String())
	}
}

func TestProgressTerminalLinesFitWidth(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressView(&buf, true, 40)
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.1), []*v1.Task{runningTask("video-1080p-chunk-12", 0.1)})
	for _, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r\033[J"), "\n"), "\n") {
		if len([]rune(l)) > 39 {
			t.Errorf("line of %d columns on a 40-column terminal would wrap: %q", len([]rune(l)), l)
		}
	}
}

func TestProgressPlainLinePerChange(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressView(&buf, false, 0)
	video := runningTask("video-720p", 0.5)
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.4), []*v1.Task{video})
	got := buf.String()
	if strings.Contains(got, "\033") || strings.Contains(got, "\r") {
		t.Fatalf("plain mode wrote escapes: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "job j1 running") || !strings.HasPrefix(lines[1], "task video-720p") {
		t.Fatalf("first update: %q", lines)
	}
	// Same state and whole percent: nothing new (speed and ETA jitter is
	// not a change worth a line).
	buf.Reset()
	video.Speed, video.EtaSeconds, video.Progress = 2.6, 11, 0.501
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.4), []*v1.Task{video})
	if buf.Len() != 0 {
		t.Fatalf("unchanged update wrote %q", buf.String())
	}
	// The task moves: one line for it, none for the unchanged job.
	video.Progress = 0.6
	p.update(progressJob(v1.JobState_JOB_STATE_RUNNING, 0.4), []*v1.Task{video})
	if lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n"); len(lines) != 1 || !strings.Contains(lines[0], " 60%") {
		t.Fatalf("task change: %q", buf.String())
	}
	buf.Reset()
	video.State = v1.TaskState_TASK_STATE_SUCCEEDED
	failed := progressJob(v1.JobState_JOB_STATE_FAILED, 0.9)
	failed.Error = "package failed: boom"
	p.update(failed, []*v1.Task{video})
	if !strings.Contains(buf.String(), "job j1 failed") || !strings.Contains(buf.String(), "package failed: boom") ||
		!regexp.MustCompile(`task video-720p +succeeded`).MatchString(buf.String()) {
		t.Fatalf("final update: %q", buf.String())
	}
}

func TestStatusShowsWebhookDeliveries(t *testing.T) {
	var buf bytes.Buffer
	job := &v1.Job{Id: "j1", State: v1.JobState_JOB_STATE_SUCCEEDED, WebhookDeliveries: []*v1.WebhookDelivery{{
		Id: "e1-0", Event: v1.JobState_JOB_STATE_SUCCEEDED, Url: "https://hooks.example/x",
		State: v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING, Attempts: 2, LastStatusCode: 500, LastError: "receiver answered 500",
	}}}
	printJobDetail(&buf, job, nil)
	out := buf.String()
	for _, frag := range []string{"WEBHOOK", "e1-0", "succeeded", "https://hooks.example/x", "pending", "500", "receiver answered 500"} {
		if !strings.Contains(out, frag) {
			t.Errorf("status lacks %q:\n%s", frag, out)
		}
	}
	if js := jobJSON(job, nil); len(js.Webhooks) != 1 || js.Webhooks[0].State != "pending" || js.Webhooks[0].Attempts != 2 {
		t.Errorf("JSON webhooks: %+v", js.Webhooks)
	}
}

func TestWebhookFlags(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg coordinator.WebhookConfig
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	apply := webhookFlags(fs, &cfg)
	if err := fs.Parse([]string{"--webhook", "https://a.example/1,https://b.example/2", "--webhook", "https://c.example/3", "--webhook-secret-file", secret}); err != nil {
		t.Fatal(err)
	}
	if err := apply(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.URLs) != 3 || cfg.URLs[2] != "https://c.example/3" || string(cfg.Secret) != "0123456789abcdef0123" {
		t.Fatalf("config %+v", cfg)
	}
	short := filepath.Join(t.TempDir(), "short")
	_ = os.WriteFile(short, []byte("tiny"), 0o600)
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	apply = webhookFlags(fs, &cfg)
	_ = fs.Parse([]string{"--webhook-secret-file", short})
	if err := apply(); err == nil {
		t.Fatal("a 4-byte secret was accepted")
	}
}
