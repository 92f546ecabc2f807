package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// errTaskTimeout marks a task attempt that ran past its time limit.
var errTaskTimeout = errors.New("task timed out")

// Derived task timeout: the larger of minTaskTimeout and taskTimeoutFactor
// times the source duration. 20x real time is far slower than any preset
// encodes on a healthy machine, so only a stuck or pathological encode
// (a decompression bomb, a hung filter) reaches it.
const (
	minTaskTimeout    = 10 * time.Minute
	taskTimeoutFactor = 20
)

// taskTimeout is how long one attempt of a task with spec may run:
// Config.TaskTimeout, or when 0 the derived limit.
func (a *Agent) taskTimeout(spec *v1.TaskSpec) time.Duration {
	if a.cfg.TaskTimeout > 0 {
		return a.cfg.TaskTimeout
	}
	d := time.Duration(spec.GetSourceDurationSeconds() * taskTimeoutFactor * float64(time.Second))
	return max(minTaskTimeout, d)
}

// taskContext bounds ctx by the task's timeout. When it passes, ctx ends,
// ffmpeg's process group is killed (ffmpeg.Run) and the error the task
// fails with is ctx's cause: "task timed out after D", permanent, since a
// new attempt would take as long.
//
// ctx also carries the stall watchdog (Config.StallTimeout), which every
// ffmpeg run of the task applies (see ffmpeg.Run).
func (a *Agent) taskContext(ctx context.Context, spec *v1.TaskSpec) (context.Context, context.CancelFunc) {
	d := a.taskTimeout(spec)
	ctx = ffmpeg.WithWatchdog(ctx, ffmpeg.Watchdog{StallTimeout: a.cfg.StallTimeout})
	return context.WithTimeoutCause(ctx, d, permanent(fmt.Errorf("%w after %s", errTaskTimeout, d)))
}
