package coordinator

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config holds the coordinator settings. Zero values are replaced by
// DefaultConfig's through WithDefaults; Validate rejects the rest.
type Config struct {
	// Prefix is the etcd key prefix of this vodfleet installation, so several
	// installations (or tests) can share one etcd cluster.
	Prefix string
	// AdvertiseAddress is the gRPC address other processes reach this
	// coordinator at; followers tell agents the leader's.
	AdvertiseAddress string
	// SessionTTL is the etcd session TTL behind the leader election: how long
	// a dead leader keeps leadership before another coordinator takes over.
	SessionTTL time.Duration
	// LeaseDuration is how long a task lease lives without progress. Agents
	// renew it by reporting progress; a lease that expires is retried.
	LeaseDuration time.Duration
	// MaxAttempts is the default number of attempts per task before the job
	// fails; jobs may set their own.
	MaxAttempts int
	// RetryBackoff is the delay before the second attempt of a task; it
	// doubles with every further attempt up to MaxRetryBackoff.
	RetryBackoff time.Duration
	// MaxRetryBackoff caps RetryBackoff's growth.
	MaxRetryBackoff time.Duration
	// TickInterval is how often the leader checks lease deadlines and retry
	// timers.
	TickInterval time.Duration
	// PlaybackBaseURL is the edge URL players use, e.g.
	// http://127.0.0.1:8080; job responses carry playback URLs built on it.
	PlaybackBaseURL string
	// DefaultSegmentSeconds is the segment duration of jobs that set none.
	DefaultSegmentSeconds float64

	// AllowPrivateSources lets source URLs name loopback, private,
	// link-local and other non-public addresses (see urlpolicy.Policy).
	// Off in production, where a user's URL must not reach the fleet's own
	// network; `vodfleet dev` turns it on because it is a local sandbox.
	// Agents enforce their own copy of this at connect time.
	AllowPrivateSources bool
	// AllowedSourceCIDRs lists non-public networks (e.g. "10.1.0.0/16")
	// that source URLs may name anyway: an internal media origin, without
	// opening the whole private network.
	AllowedSourceCIDRs []string
	// MaxSourceDuration fails jobs whose probed source runs longer; 0 means
	// no limit. It bounds the encode time one job can take.
	MaxSourceDuration time.Duration
	// MaxSourceBytes fails jobs whose probed source is larger; 0 means no
	// limit. Agents also stop downloads past their own limit.
	MaxSourceBytes int64
	// MaxSourceWidth and MaxSourceHeight fail jobs whose source picture is
	// larger, in either orientation (see checkSourceLimits); 0 means no
	// limit. They bound the memory and time a decode can take.
	MaxSourceWidth, MaxSourceHeight int
	// Webhooks configures job event webhooks (see WebhookConfig).
	Webhooks WebhookConfig
	// UnschedulableAfter is how long a task may wait with no connected
	// agent having the labels it needs (codec, encoder, agent selector)
	// before its job fails with the reason, instead of waiting forever;
	// the reason shows in the job's error from the start (see
	// unschedulable.go). It is also how long agents have to reconnect
	// after a leader change or a restart before such jobs fail.
	UnschedulableAfter time.Duration
}

// DefaultConfig returns the defaults used by `vodfleet dev`.
func DefaultConfig() Config {
	return Config{
		Prefix:                "/vodfleet",
		SessionTTL:            5 * time.Second,
		LeaseDuration:         30 * time.Second,
		MaxAttempts:           3,
		RetryBackoff:          500 * time.Millisecond,
		MaxRetryBackoff:       time.Minute,
		TickInterval:          250 * time.Millisecond,
		DefaultSegmentSeconds: 4,
		UnschedulableAfter:    5 * time.Minute,
	}
}

// WithDefaults fills zero fields from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = d.SessionTTL
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = d.LeaseDuration
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = d.RetryBackoff
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = d.MaxRetryBackoff
	}
	if c.TickInterval == 0 {
		c.TickInterval = d.TickInterval
	}
	if c.DefaultSegmentSeconds == 0 {
		c.DefaultSegmentSeconds = d.DefaultSegmentSeconds
	}
	if c.UnschedulableAfter == 0 {
		c.UnschedulableAfter = d.UnschedulableAfter
	}
	c.Webhooks = c.Webhooks.WithDefaults()
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("prefix %q must start with / and not end with /", c.Prefix))
	}
	if c.SessionTTL < time.Second {
		errs = append(errs, fmt.Errorf("session TTL %s is below 1s", c.SessionTTL))
	}
	if c.LeaseDuration < time.Second {
		errs = append(errs, fmt.Errorf("lease duration %s is below 1s", c.LeaseDuration))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("max attempts %d is outside 1..100", c.MaxAttempts))
	}
	if c.RetryBackoff <= 0 || c.MaxRetryBackoff < c.RetryBackoff {
		errs = append(errs, fmt.Errorf("retry backoff %s / max %s are invalid", c.RetryBackoff, c.MaxRetryBackoff))
	}
	if c.TickInterval <= 0 {
		errs = append(errs, fmt.Errorf("tick interval %s must be positive", c.TickInterval))
	}
	if c.DefaultSegmentSeconds < 1 || c.DefaultSegmentSeconds > 30 {
		errs = append(errs, fmt.Errorf("segment duration %gs is outside 1..30", c.DefaultSegmentSeconds))
	}
	if c.UnschedulableAfter < time.Second {
		errs = append(errs, fmt.Errorf("unschedulable-after %s is below 1s", c.UnschedulableAfter))
	}
	errs = append(errs, c.validateSourceLimits(), c.Webhooks.Validate())
	return errors.Join(errs...)
}
