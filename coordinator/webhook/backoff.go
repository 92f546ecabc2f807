package webhook

import "time"

// Backoff is the delay before the retry that follows attempt number
// attempt (1 for the first attempt): base doubled per attempt and capped
// at max, of which the upper half is random ("equal jitter"). Jitter
// spreads the retries of many deliveries that failed together; keeping
// the lower half fixed means each delay is at least as long as the
// previous one. rnd returns a number in [0, 1).
func Backoff(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + time.Duration(float64(d-half)*rnd())
}
