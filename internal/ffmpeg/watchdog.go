package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	vclock "github.com/vodfleet/vodfleet/internal/clock"
)

// ErrStalled means ffmpeg made no progress (its -progress out_time and
// frame count stood still) for the watchdog's stall timeout, or ffprobe
// gave no answer within its time limit, and was killed with its process
// group. The input or the machine hung (a network read that never
// returns, a dying disk); another attempt, preferably on another agent,
// may well succeed, so it is not permanent.
var ErrStalled = errors.New("stalled")

// Watchdog is the stall detection Run applies to every ffmpeg run whose
// context carries it (see WithWatchdog). A run counts as progressing while
// the out_time or frame count of its -progress output grows; a run that
// does not write -progress output is not watched, since it could never
// prove it is alive.
type Watchdog struct {
	// StallTimeout is how long progress may stand still before the run
	// is killed; 0 disables the watchdog. The clock starts when ffmpeg
	// starts, so an input that never delivers a first packet counts too.
	StallTimeout time.Duration
	// Clock tells the time; nil means the wall clock. Tests pass a fake
	// one and advance it.
	Clock vclock.Clock
	// CheckEvery is how often (in real time) the watchdog compares the
	// clock with the last advance; 0 means a tenth of StallTimeout,
	// between 10 ms and 1 s.
	CheckEvery time.Duration
}

type watchdogKey struct{}

// WithWatchdog returns ctx carrying w, so every Run under it (encodes,
// thumbnails, subtitles, muxing) is watched without each caller passing
// it. The agent sets it once per task.
func WithWatchdog(ctx context.Context, w Watchdog) context.Context {
	return context.WithValue(ctx, watchdogKey{}, w)
}

// watchdogOf returns the watchdog ctx carries, if it is enabled.
func watchdogOf(ctx context.Context) (Watchdog, bool) {
	w, ok := ctx.Value(watchdogKey{}).(Watchdog)
	if !ok || w.StallTimeout <= 0 {
		return Watchdog{}, false
	}
	if w.Clock == nil {
		w.Clock = vclock.Real{}
	}
	if w.CheckEvery <= 0 {
		w.CheckEvery = min(max(w.StallTimeout/10, 10*time.Millisecond), time.Second)
	}
	return w, true
}

// stallWatch tracks the last time a run's progress advanced.
type stallWatch struct {
	w Watchdog

	mu      sync.Mutex
	last    time.Time
	outTime time.Duration
	frame   int64
}

func newStallWatch(w Watchdog) *stallWatch {
	return &stallWatch{w: w, last: w.Clock.Now()}
}

// observe records a -progress block: a larger out_time or frame count,
// or the final block, is an advance.
func (s *stallWatch) observe(p Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.OutTime > s.outTime || p.Frame > s.frame || p.Done {
		s.outTime = max(s.outTime, p.OutTime)
		s.frame = max(s.frame, p.Frame)
		s.last = s.w.Clock.Now()
	}
}

// stalled returns an error wrapping ErrStalled when progress has not
// advanced for the stall timeout, else nil.
func (s *stallWatch) stalled() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Clock.Now().Sub(s.last) < s.w.StallTimeout {
		return nil
	}
	return fmt.Errorf("%w: no progress for %s", ErrStalled, seconds2(s.w.StallTimeout))
}

// run checks every CheckEvery until ctx ends and calls kill with the
// stall error once progress stood still too long.
func (s *stallWatch) run(ctx context.Context, kill func(error)) {
	tick := time.NewTicker(s.w.CheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.stalled(); err != nil {
				kill(err)
				return
			}
		}
	}
}

// seconds2 formats d as seconds ("60s", "2.5s"), which reads better in a
// task's error than Duration's "1m0s".
func seconds2(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// hasProgressOutput reports whether args ask ffmpeg for -progress output
// on stdout, which Run parses.
func hasProgressOutput(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-progress" && args[i+1] == "pipe:1" {
			return true
		}
	}
	return false
}
