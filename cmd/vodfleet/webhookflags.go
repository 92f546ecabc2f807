package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vodfleet/vodfleet/coordinator"
)

// listFlag collects a repeatable flag whose values may also be comma
// lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, splitList(s)...)
	return nil
}

// webhookFlags adds the global webhook flags of the coordinator (and dev);
// the returned function completes cfg after parsing.
func webhookFlags(fs *flag.FlagSet, cfg *coordinator.WebhookConfig) func() error {
	var urls listFlag
	fs.Var(&urls, "webhook", "URL receiving every job's state change events as signed POSTs (repeatable, or a comma list)")
	secretFile := fs.String("webhook-secret-file", envOr("VODFLEET_WEBHOOK_SECRET_FILE", ""), "file with the HMAC-SHA256 key that signs webhook deliveries (X-Vodfleet-Signature)")
	fs.IntVar(&cfg.MaxAttempts, "webhook-max-attempts", cfg.MaxAttempts, "attempts per webhook delivery before it is marked failed (0: 8)")
	fs.DurationVar(&cfg.Backoff, "webhook-backoff", cfg.Backoff, "delay before the first webhook retry, doubled per attempt (0: 5s)")
	return func() error {
		cfg.URLs = append(cfg.URLs, urls...)
		if *secretFile == "" {
			return nil
		}
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return fmt.Errorf("--webhook-secret-file: %w", err)
		}
		k := []byte(strings.TrimSpace(string(b)))
		if len(k) < 16 {
			return fmt.Errorf("webhook secret in %s is shorter than 16 bytes", *secretFile)
		}
		cfg.Secret = k
		return nil
	}
}
