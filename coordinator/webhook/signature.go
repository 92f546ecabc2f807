package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a delivery:
// "t=UNIX,v1=HEX", where HEX is the hex HMAC-SHA256, keyed with the shared
// secret, of the decimal UNIX time, a dot and the raw body. Signing the
// time with the body lets receivers refuse replays of old deliveries.
const SignatureHeader = "X-Vodfleet-Signature"

// DeliveryHeader carries the delivery id, the same on every attempt, so
// receivers can drop duplicates (delivery is at least once).
const DeliveryHeader = "X-Vodfleet-Delivery"

// EventHeader carries the event type, e.g. "job.succeeded", so receivers
// can route without parsing the body.
const EventHeader = "X-Vodfleet-Event"

// Errors of Verify. Receivers answer all of them with 401 (or 400) and
// must not process the body.
var (
	// ErrMalformedHeader: the header is missing or not "t=UNIX,v1=HEX".
	ErrMalformedHeader = errors.New("malformed signature header")
	// ErrBadSignature: no v1 signature matches the body and secret.
	ErrBadSignature = errors.New("signature mismatch")
	// ErrTooOld: the signed time is further than the tolerance from now
	// (a replay, or clocks far apart).
	ErrTooOld = errors.New("signature timestamp outside tolerance")
)

// Sign returns the signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

// mac is the hex HMAC-SHA256 of "ts.body".
func mac(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a signature header against the raw request body: one of
// its v1 signatures (several are allowed, for secret rotation on the
// sender's side) must be the HMAC of "t.body" under secret, and t must be
// within tolerance of now (0 disables the time check). The comparison is
// constant-time.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: element %q", ErrMalformedHeader, part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: need t= and v1=", ErrMalformedHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrMalformedHeader, ts)
	}
	want := []byte(mac(secret, ts, body))
	match := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return fmt.Errorf("%w: signed %s ago", ErrTooOld, d)
		}
	}
	return nil
}
