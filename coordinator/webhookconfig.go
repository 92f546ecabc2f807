package coordinator

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// WebhookConfig configures job event webhooks: every job state change is
// POSTed, signed, to the global URLs here and to the job's own.
type WebhookConfig struct {
	// URLs receive every job's events (operator-configured, so they may
	// name internal addresses, unlike job-supplied URLs).
	URLs []string
	// Secret keys the HMAC-SHA256 signature of every delivery (global and
	// per job); receivers verify with the same secret. Empty sends
	// unsigned deliveries (the coordinator warns at start).
	Secret []byte
	// MaxAttempts bounds the attempts per delivery before it is FAILED.
	MaxAttempts int
	// Backoff is the base delay before the first retry; it doubles per
	// attempt up to MaxBackoff, with the upper half random (jitter).
	Backoff time.Duration
	// MaxBackoff caps the delay between attempts.
	MaxBackoff time.Duration
	// Timeout bounds one attempt (connect, send, answer).
	Timeout time.Duration
	// Workers bounds the attempts in flight at once, so a burst of events
	// to slow receivers cannot pile up goroutines and connections.
	Workers int
	// Poll is how often the deliverer looks for due deliveries.
	Poll time.Duration
}

// maxJobWebhooks bounds the URLs one job may name.
const maxJobWebhooks = 4

// maxGlobalWebhooks bounds the coordinator-wide URLs (each event costs one
// record per URL in the job's transaction).
const maxGlobalWebhooks = 8

// WithDefaults fills zero fields.
func (w WebhookConfig) WithDefaults() WebhookConfig {
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 8
	}
	if w.Backoff == 0 {
		w.Backoff = 5 * time.Second
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = 10 * time.Minute
	}
	if w.Timeout == 0 {
		w.Timeout = 10 * time.Second
	}
	if w.Workers == 0 {
		w.Workers = 4
	}
	if w.Poll == 0 {
		w.Poll = 250 * time.Millisecond
	}
	return w
}

// Validate reports invalid webhook settings.
func (w WebhookConfig) Validate() error {
	var errs []error
	if len(w.URLs) > maxGlobalWebhooks {
		errs = append(errs, fmt.Errorf("%d webhook URLs, at most %d", len(w.URLs), maxGlobalWebhooks))
	}
	for i, u := range w.URLs {
		if err := checkWebhookURL(u); err != nil {
			errs = append(errs, fmt.Errorf("webhook URL %d: %w", i+1, err))
		}
	}
	if w.MaxAttempts < 1 || w.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("webhook max attempts %d is outside 1..100", w.MaxAttempts))
	}
	if w.Backoff <= 0 || w.MaxBackoff < w.Backoff {
		errs = append(errs, fmt.Errorf("webhook backoff %s / max %s are invalid", w.Backoff, w.MaxBackoff))
	}
	if w.Timeout <= 0 || w.Workers < 1 || w.Poll <= 0 {
		errs = append(errs, fmt.Errorf("webhook timeout %s, workers %d and poll %s must be positive", w.Timeout, w.Workers, w.Poll))
	}
	return errors.Join(errs...)
}

// checkWebhookURL accepts absolute http(s) URLs of at most 2048 bytes.
// Errors never repeat the URL, which may carry a token.
func checkWebhookURL(raw string) error {
	if len(raw) > 2048 {
		return errors.New("longer than 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http or https URL")
	}
	return nil
}
