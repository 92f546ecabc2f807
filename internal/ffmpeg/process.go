package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// waitDelay bounds how long Run waits for the child's pipes to close after
// the process group was killed (a stray grandchild could hold them open).
const waitDelay = 5 * time.Second

// invalidMarkers are stderr fragments that prove the input, not the machine,
// is at fault. Matching message text is confined to this file and probe.go,
// where ffmpeg's text is turned into sentinel errors.
var invalidMarkers = []string{
	"Invalid data found when processing input",
	"moov atom not found",
	"matches no streams",
}

// genericLines are stderr lines that carry no reason and are skipped when
// choosing the line to report.
var genericLines = map[string]bool{
	"Conversion failed!": true,
}

// command returns an exec.Cmd that runs in its own process group and whose
// whole group is killed with SIGKILL when ctx is done, so filters or
// helpers ffmpeg may spawn die with it.
func command(ctx context.Context, bin string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The child is the group leader, so its pid is the pgid.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	return cmd
}

// Run executes bin (ffmpeg) with args and waits for it. When onProgress is
// not nil, stdout is parsed as -progress output (so args should contain
// "-progress pipe:1") and every block is passed to onProgress from Run's
// goroutine; otherwise stdout is discarded.
//
// Errors: when ctx ends, the process group is killed and the returned error
// wraps ctx.Err(). A non-zero exit wraps ErrInvalidMedia when stderr shows
// the input is unreadable, and ErrFailed otherwise; the message carries the
// most useful stderr line with the input redacted.
func Run(ctx context.Context, log hclog.Logger, bin string, args []string, onProgress func(Progress)) error {
	input := inputOf(args)
	log = log.With("bin", bin)
	log.Debug("starting ffmpeg", "args", strings.Join(redactArgs(args), " "))

	cmd := command(ctx, bin, args)
	tail := newTailBuffer(stderrTailSize)
	cmd.Stderr = tail
	var stdout io.ReadCloser
	if onProgress != nil {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return fmt.Errorf("ffmpeg: stdout pipe: %w", err)
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ffmpeg: %w", ctx.Err())
		}
		return fmt.Errorf("ffmpeg: start %s: %w", bin, err)
	}
	if stdout != nil {
		if err := ParseProgress(stdout, onProgress); err != nil {
			log.Warn("cannot parse ffmpeg progress", "error", err)
		}
		// Keep draining so ffmpeg never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}
	err := cmd.Wait()
	log.Debug("ffmpeg exited", "elapsed", time.Since(start), "error", err)
	if ctx.Err() != nil {
		return fmt.Errorf("ffmpeg: %w", ctx.Err())
	}
	if err == nil {
		return nil
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("ffmpeg: %v: %w", err, ErrFailed)
	}
	line, invalid := reason(tail.lines(), false)
	if line == "" {
		line = exitErr.Error()
	} else {
		line = cleanLine(line, input)
	}
	if invalid {
		return fmt.Errorf("ffmpeg: %s: %w", line, ErrInvalidMedia)
	}
	return fmt.Errorf("ffmpeg: %s: %w", line, ErrFailed)
}

// reason picks the stderr line to report and says whether it proves the
// input invalid. A line with an invalid-media marker wins; otherwise the
// first (first=true, for ffprobe, which stops at the first problem) or last
// informative line is used.
func reason(lines []string, first bool) (line string, invalid bool) {
	for _, l := range lines {
		for _, m := range invalidMarkers {
			if strings.Contains(l, m) {
				return l, true
			}
		}
	}
	var useful []string
	for _, l := range lines {
		if !genericLines[l] {
			useful = append(useful, l)
		}
	}
	switch {
	case len(useful) == 0:
		return "", false
	case first:
		return useful[0], false
	default:
		return useful[len(useful)-1], false
	}
}
