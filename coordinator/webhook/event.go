package webhook

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is the JSON body of a delivery. Field names are a stable API.
type Event struct {
	// EventID identifies the state change; deliveries of one event to
	// several URLs share it.
	EventID string `json:"event_id"`
	// DeliveryID identifies this event sent to this URL; it is the same on
	// every retry (also in the X-Vodfleet-Delivery header).
	DeliveryID string `json:"delivery_id"`
	// Type is "job." and the lower-case state, e.g. "job.succeeded".
	Type string `json:"type"`
	// JobID is the job that changed.
	JobID string `json:"job_id"`
	// State is the job's new state in lower case: running, succeeded,
	// failed or cancelled.
	State string `json:"state"`
	// Error is the job's error when it failed or was cancelled.
	Error string `json:"error,omitempty"`
	// AssetID is the asset the job publishes to.
	AssetID string `json:"asset_id"`
	// HLSURL and DASHURL are the playback URLs once the job succeeded.
	HLSURL  string `json:"hls_url,omitempty"`
	DASHURL string `json:"dash_url,omitempty"`
	// Time is when the state change happened (RFC 3339, UTC).
	Time time.Time `json:"time"`
}

// TypeOf returns the event type of a lower-case job state.
func TypeOf(state string) string { return "job." + state }

// Marshal encodes the event as the body sent on every attempt.
func (e Event) Marshal() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode webhook event: %w", err)
	}
	return b, nil
}
