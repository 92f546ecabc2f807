package ffmpeg

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vclock "github.com/vodfleet/vodfleet/internal/clock"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// TestStallWatch drives the watchdog's bookkeeping with a fake clock: only
// a growing out_time or frame count (or the final block) resets it.
func TestStallWatch(t *testing.T) {
	clk := vclock.NewFake(time.Unix(1000, 0))
	s := newStallWatch(Watchdog{StallTimeout: time.Minute, Clock: clk})
	clk.Advance(59 * time.Second)
	if err := s.stalled(); err != nil {
		t.Fatalf("stalled after 59s: %v", err)
	}
	s.observe(Progress{OutTime: time.Second, Frame: 25})
	clk.Advance(59 * time.Second)
	if err := s.stalled(); err != nil {
		t.Fatalf("stalled 59s after an advance: %v", err)
	}
	// The same position again (ffmpeg blocked on its input keeps
	// printing nothing new) is no progress.
	s.observe(Progress{OutTime: time.Second, Frame: 25, Speed: 1})
	clk.Advance(time.Second)
	err := s.stalled()
	if !errors.Is(err, ErrStalled) || err.Error() != "stalled: no progress for 60s" {
		t.Fatalf("after 60s without progress: %v", err)
	}
	// Frames alone (an output whose time stands still) are progress.
	s.observe(Progress{OutTime: time.Second, Frame: 26})
	if err := s.stalled(); err != nil {
		t.Fatalf("frame advance not counted: %v", err)
	}
	clk.Advance(time.Hour)
	s.observe(Progress{OutTime: time.Second, Frame: 26, Done: true})
	if err := s.stalled(); err != nil {
		t.Fatalf("final block not counted: %v", err)
	}
}

// stallServer serves the first half of data (announcing the full length)
// and then holds the connection open without sending more, like an origin
// that hangs mid-transfer. sent is closed once the half is out.
func stallServer(t *testing.T, data []byte) (url string, sent chan struct{}) {
	sent = make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Content-Type", "video/mp2t")
		_, _ = w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		once.Do(func() { close(sent) })
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL + "/clip.ts", sent
}

// tsClip writes a 12 s MPEG-TS clip (streamable: ffmpeg decodes its first
// half without the rest) and returns its bytes.
func tsClip(t *testing.T) []byte {
	bin, _ := tools(t)
	dir := t.TempDir()
	mp4 := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 12})
	ts := filepath.Join(dir, "clip.ts")
	if out, err := exec.Command(bin, "-nostdin", "-v", "error", "-i", mp4, "-c", "copy", "-f", "mpegts", ts).CombinedOutput(); err != nil {
		t.Fatalf("remux: %v\n%s", err, out)
	}
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRunStalledInput runs a real ffmpeg on an HTTP input that stops
// delivering data midway without closing. The watchdog (fake clock, moved
// on by the test once the server has sent its half) kills ffmpeg's whole
// process group, a grandchild included, and Run fails with ErrStalled.
func TestRunStalledInput(t *testing.T) {
	ffmpegBin, _ := tools(t)
	url, sent := stallServer(t, tsClip(t))

	// The test becomes the reaper of orphans, so the killed grandchild
	// can be waited for and the group checked to be empty (the machine's
	// init may not reap zombies).
	if err := setSubreaper(); err != nil {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", err)
	}
	dir := t.TempDir()
	pidFile, childFile := filepath.Join(dir, "pgid"), filepath.Join(dir, "child")
	wrapper := filepath.Join(dir, "ffmpeg.sh")
	script := "#!/bin/sh\necho $$ > " + pidFile + "\nsleep 600 >/dev/null 2>&1 &\necho $! > " + childFile + "\nexec " + ffmpegBin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	clk := vclock.NewFake(time.Unix(1000, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx = WithWatchdog(ctx, Watchdog{StallTimeout: time.Minute, Clock: clk, CheckEvery: 10 * time.Millisecond})
	// Frequent reports, so the test sees how far ffmpeg got before the
	// input stopped.
	args := []string{"-nostdin", "-hide_banner", "-v", "error", "-progress", "pipe:1", "-stats_period", "0.05",
		"-protocol_whitelist", "file,http,tcp", "-i", url,
		"-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-"}
	var maxOut atomic.Int64
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, testLogger(t), wrapper, args, func(p Progress) {
			maxOut.Store(max(maxOut.Load(), int64(p.OutTime)))
		})
	}()
	select {
	case <-sent:
	case err := <-errc:
		t.Fatalf("Run ended before the input stalled: %v", err)
	}
	// Fake time runs 1 s per 50 ms once the input stops: ffmpeg works
	// through what it has (each advance resets the watchdog), then
	// stands still for 60 fake seconds and is killed.
	var err error
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-errc:
			break wait
		case <-tick.C:
			clk.Advance(time.Second)
		}
	}
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("err = %v, want ErrStalled", err)
	}
	if !strings.Contains(err.Error(), "stalled: no progress for 60s") {
		t.Errorf("message %q", err)
	}
	if IsPermanent(err) {
		t.Error("a stall must be retryable")
	}
	if got := time.Duration(maxOut.Load()); got < time.Second {
		t.Errorf("ffmpeg reached out_time %v before the stall; the first half was not decoded", got)
	}

	pgid := readPid(t, pidFile)
	child := readPid(t, childFile)
	reap(t, child)
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("kill(-%d, 0) = %v, want ESRCH: the process group survived", pgid, err)
	}
}

// TestRunWatchdogLetsHealthyRunsFinish: a normal encode under the watchdog
// (real clock) succeeds, and so does one whose args carry no -progress
// output, which the watchdog must leave alone.
func TestRunWatchdogLetsHealthyRunsFinish(t *testing.T) {
	ffmpegBin, _ := tools(t)
	clip := makeClip(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = WithWatchdog(ctx, Watchdog{StallTimeout: 10 * time.Second})
	args := []string{"-nostdin", "-v", "error", "-progress", "pipe:1", "-i", clip, "-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-"}
	if err := Run(ctx, testLogger(t), ffmpegBin, args, nil); err != nil {
		t.Fatalf("healthy run: %v", err)
	}
	// Without -progress output there is nothing to watch: a stall
	// timeout of a nanosecond must not kill the run.
	ctx = WithWatchdog(ctx, Watchdog{StallTimeout: time.Nanosecond})
	quiet := []string{"-nostdin", "-v", "error", "-i", clip, "-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-"}
	if err := Run(ctx, testLogger(t), ffmpegBin, quiet, nil); err != nil {
		t.Fatalf("run without -progress: %v", err)
	}
}

// TestProbeTimeout: ffprobe on an input that stalls is killed after its
// time limit with ErrStalled instead of hanging.
func TestProbeTimeout(t *testing.T) {
	_, ffprobeBin := tools(t)
	data := tsClip(t)
	// Too little for ffprobe to finish analysing the streams.
	url, _ := stallServer(t, data[:2*188])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Probe(ctx, ffprobeBin, url, ProbeOptions{Whitelist: "file,http,tcp", Timeout: time.Second})
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "no result after 1s") {
		t.Fatalf("err = %v, want ErrStalled", err)
	}
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// reap waits for pid (an orphan this process adopted as subreaper) to
// die and collects it; it fails the test if pid stays alive.
func reap(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid || errors.Is(err, syscall.ECHILD) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d of ffmpeg's group is still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setSubreaper makes this process adopt its orphaned descendants.
func setSubreaper() error {
	const prSetChildSubreaper = 36
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// TestRunDiskFull: an output that cannot be written for lack of space
// (/dev/full answers every write with ENOSPC) fails with ErrNoSpace.
func TestRunDiskFull(t *testing.T) {
	ffmpegBin, _ := tools(t)
	clip := makeClip(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"-nostdin", "-v", "error", "-y", "-i", clip, "-c", "copy", "-f", "mpegts", "/dev/full"}
	err := Run(ctx, testLogger(t), ffmpegBin, args, nil)
	if !errors.Is(err, ErrNoSpace) || IsPermanent(err) {
		t.Fatalf("err = %v, want ErrNoSpace (retryable)", err)
	}
}
