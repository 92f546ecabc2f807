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
	"Format not on whitelist",
	"not found for input stream",
}

// truncatedMarkers are stderr fragments saying the input ends early. ffmpeg
// and ffprobe exit 0 on some of them ("partial file", "File ended
// prematurely"), so Run and Probe look for them after a success too.
var truncatedMarkers = []string{
	"moov atom not found",
	"partial file",
	"File ended prematurely",
}

// codecMarkers are stderr fragments saying a stream cannot be decoded:
// ffmpeg prints "Decoder (codec none) not found for input stream #0:0" for
// codecs it does not know or was built without.
var codecMarkers = []string{
	"not found for input stream",
	"Unsupported codec",
}

// notWhitelisted is how libavformat reports a demuxer outside
// -format_whitelist (see MediaFormats).
const notWhitelisted = "Format not on whitelist"

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
// When ctx carries a Watchdog (WithWatchdog) and args contain "-progress
// pipe:1", a run whose progress stands still for the stall timeout is
// killed with its process group and the error wraps ErrStalled ("stalled:
// no progress for 60s").
//
// A run whose stderr says a write failed for lack of space (even after a
// zero exit) wraps ErrNoSpace.
//
// Errors: when ctx ends, the process group is killed and the returned error
// wraps context.Cause(ctx) (ctx.Err() unless the context was given a cause,
// such as a task timeout). A non-zero exit wraps ErrNotMedia, ErrTruncated
// or ErrUnsupportedCodec when stderr shows which, ErrInvalidMedia when it
// otherwise shows the input is unreadable, and ErrFailed otherwise; the
// message carries the most useful stderr line with the input redacted. A
// zero exit whose stderr says the input ended early (ffmpeg then just
// stops) wraps ErrTruncated, so a cut-off upload is not published short.
func Run(ctx context.Context, log hclog.Logger, bin string, args []string, onProgress func(Progress)) error {
	input := inputOf(args)
	log = log.With("bin", bin)
	log.Debug("starting ffmpeg", "args", strings.Join(redactArgs(args), " "))

	// The run's own context: the watchdog ends it with ErrStalled, which
	// kills the process group like the end of ctx does.
	rctx, kill := context.WithCancelCause(ctx)
	defer kill(nil)
	var watch *stallWatch
	if w, ok := watchdogOf(ctx); ok && hasProgressOutput(args) {
		watch = newStallWatch(w)
	}
	cmd := command(rctx, bin, args)
	tail := newTailBuffer(stderrTailSize)
	cmd.Stderr = tail
	var stdout io.ReadCloser
	if onProgress != nil || watch != nil {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return fmt.Errorf("ffmpeg: stdout pipe: %w", err)
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
		}
		return fmt.Errorf("ffmpeg: start %s: %w", bin, err)
	}
	if watch != nil {
		go watch.run(rctx, func(err error) {
			log.Warn("ffmpeg stalled, killing its process group", "error", err)
			kill(err)
		})
	}
	if stdout != nil {
		fn := func(p Progress) {
			if watch != nil {
				watch.observe(p)
			}
			if onProgress != nil {
				onProgress(p)
			}
		}
		if err := ParseProgress(stdout, fn); err != nil {
			log.Warn("cannot parse ffmpeg progress", "error", err)
		}
		// Keep draining so ffmpeg never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}
	err := cmd.Wait()
	log.Debug("ffmpeg exited", "elapsed", time.Since(start), "error", err)
	if ctx.Err() != nil {
		return fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
	}
	if rctx.Err() != nil {
		return fmt.Errorf("ffmpeg: %w", context.Cause(rctx))
	}
	// A full disk is reported even after a zero exit: some muxers (HLS
	// segments) only log a failed write and carry on.
	if line := diskFull(tail.lines()); line != "" {
		return fmt.Errorf("ffmpeg: %s: %w", cleanLine(line, input), ErrNoSpace)
	}
	if err == nil {
		if line := truncation(tail.lines()); line != "" {
			return fmt.Errorf("%w: ffmpeg: %s", ErrTruncated, cleanLine(line, input))
		}
		return nil
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("ffmpeg: %v: %w", err, ErrFailed)
	}
	lines := tail.lines()
	if line, kind := classify(lines, input); kind != nil {
		return fmt.Errorf("%w: ffmpeg: %s", kind, line)
	}
	line, invalid := reason(lines, false)
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

// classify looks for the stderr lines that tell precisely what is wrong
// with the input and returns the cleaned line with ErrTruncated,
// ErrUnsupportedCodec or ErrNotMedia, checked in that order (a truncated
// MP4 also prints "Invalid data found"). It returns a nil kind when no
// line is that precise.
func classify(lines []string, input string) (string, error) {
	if l := truncation(lines); l != "" {
		return cleanLine(l, input), ErrTruncated
	}
	for _, l := range lines {
		for _, m := range codecMarkers {
			if strings.Contains(l, m) {
				return cleanLine(l, input), ErrUnsupportedCodec
			}
		}
	}
	for _, l := range lines {
		if strings.Contains(l, notWhitelisted) {
			return refusedFormat(l), ErrNotMedia
		}
	}
	for _, l := range lines {
		// "INPUT: Invalid data found when processing input" is printed when
		// the input cannot be opened at all; the same text after "Error
		// while decoding stream" is a corrupt frame in a real media file.
		if strings.Contains(l, "Invalid data found when processing input") && !strings.HasPrefix(l, "Error while decoding") {
			return cleanLine(l, input), ErrNotMedia
		}
	}
	return "", nil
}

// diskFullMarkers are the strerror texts of ENOSPC and EDQUOT.
var diskFullMarkers = []string{"No space left on device", "Disk quota exceeded"}

// diskFull returns the first stderr line saying a write failed for lack
// of space, or "".
func diskFull(lines []string) string {
	for _, l := range lines {
		for _, m := range diskFullMarkers {
			if strings.Contains(l, m) {
				return l
			}
		}
	}
	return ""
}

// truncation returns the first stderr line saying the input ends early, or
// "".
func truncation(lines []string) string {
	for _, l := range lines {
		for _, m := range truncatedMarkers {
			if strings.Contains(l, m) {
				return l
			}
		}
	}
	return ""
}

// refusedFormat rewrites libavformat's "[hls @ 0x55d0] Format not on
// whitelist 'mov,...'" (which lists the whole whitelist) as "hls input is
// not an accepted media format".
func refusedFormat(line string) string {
	name := "this"
	if strings.HasPrefix(line, "[") {
		if i := strings.Index(line, " @ 0x"); i > 1 {
			name = line[1:i]
		}
	}
	return name + " input is not an accepted media format"
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
