package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Outcome is how one attempt ended.
type Outcome int

const (
	// Retry: no answer, or an answer other than 2xx and 410; try again
	// later while attempts remain.
	Retry Outcome = iota
	// Delivered: the receiver answered 2xx.
	Delivered
	// Gone: the receiver answered 410 Gone, meaning it wants no more
	// deliveries of this kind; no further attempts.
	Gone
)

// Result is the outcome of one attempt.
type Result struct {
	Outcome Outcome
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Err describes a failed attempt.
	Err error
}

// Request is one delivery attempt.
type Request struct {
	// URL receives the POST.
	URL string
	// DeliveryID goes in DeliveryHeader.
	DeliveryID string
	// Type goes in EventHeader.
	Type string
	// Body is the JSON event.
	Body []byte
	// Secret signs the body; empty sends no signature header.
	Secret []byte
	// Now is the signing time.
	Now time.Time
}

// maxResponseBody bounds what is read of a receiver's answer (it is
// discarded; reading lets the connection be reused).
const maxResponseBody = 64 << 10

// Send makes one attempt with client and classifies the result.
func Send(ctx context.Context, client *http.Client, r Request) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Result{Outcome: Gone, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vodfleet-webhook/1")
	req.Header.Set(DeliveryHeader, r.DeliveryID)
	req.Header.Set(EventHeader, r.Type)
	if len(r.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(r.Secret, r.Now, r.Body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Outcome: Retry, Err: fmt.Errorf("post: %w", err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return Result{Outcome: Delivered, Status: resp.StatusCode}
	case resp.StatusCode == http.StatusGone:
		return Result{Outcome: Gone, Status: resp.StatusCode, Err: fmt.Errorf("receiver answered %s", resp.Status)}
	default:
		return Result{Outcome: Retry, Status: resp.StatusCode, Err: fmt.Errorf("receiver answered %s", resp.Status)}
	}
}
