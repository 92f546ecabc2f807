package ffmpeg

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestIntegrationCancel(t *testing.T) {
	ffmpegBin, _ := tools(t)
	// An endless encode, cancelled once it reports progress.
	args := []string{"-nostdin", "-v", "error", "-progress", "pipe:1", "-re", "-f", "lavfi",
		"-i", "testsrc2=size=640x360:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, testLogger(t), ffmpegBin, args, func(Progress) {
			if cancelledAt.IsZero() {
				cancelledAt = time.Now()
				cancel()
			}
		})
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(cancelledAt); d > 2*time.Second {
			t.Errorf("Run returned %v after cancel", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	// Already cancelled: nothing starts.
	if err := Run(ctx, testLogger(t), ffmpegBin, args, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("pre-cancelled: %v", err)
	}
}

// TestRunKillsProcessGroup checks that a grandchild holding stdout open is
// killed too, so Run neither hangs nor leaks it.
func TestRunKillsProcessGroup(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no sh")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = Run(ctx, testLogger(t), sh, []string{"-c", "sleep 60 & echo $! > " + pidFile + "; sleep 60"}, func(Progress) {})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Run took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
