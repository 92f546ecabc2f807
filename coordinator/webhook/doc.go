// Package webhook is the wire contract of vodfleet's job event webhooks:
// the JSON payload, the HMAC-SHA256 signature header and its verification
// (for receivers), the retry backoff, and one HTTP attempt (for the
// coordinator). It has no etcd or leader logic, so receivers can import it
// without pulling in the coordinator.
package webhook
