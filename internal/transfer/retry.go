package transfer

import (
	"context"
	"fmt"
)

// retry runs fn until it succeeds, fails permanently (see permanent), ctx
// ends, or opts.Retries retries are spent, sleeping opts.Backoff doubled
// per attempt (capped at MaxBackoff) through opts.Sleep between tries.
// opts must have its defaults applied.
func retry(ctx context.Context, opts Options, what string, fn func() error) error {
	delay := opts.Backoff
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if permanent(err) || attempt >= opts.Retries {
			if attempt > 0 {
				return fmt.Errorf("%s: after %d attempts: %w", what, attempt+1, err)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		opts.Logger.Warn("transfer failed, retrying", "file", what, "attempt", attempt+1, "delay", delay, "error", err)
		if err := opts.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, opts.MaxBackoff)
	}
}
