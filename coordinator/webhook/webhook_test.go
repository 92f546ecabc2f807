package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"job_id":"j1"}`)
	at := time.Unix(1_800_000_000, 0)
	h := Sign(secret, at, body)
	// Hand-computed HMAC over "t.body".
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d.%s", at.Unix(), body)
	if want := fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(m.Sum(nil))); h != want {
		t.Fatalf("Sign = %q, want %q", h, want)
	}
	if err := Verify(secret, h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	cases := []struct {
		name    string
		secret  []byte
		header  string
		body    string
		now     time.Time
		wantErr error
	}{
		{"wrong secret", []byte("other"), h, string(body), at, ErrBadSignature},
		{"tampered body", secret, h, `{"job_id":"j2"}`, at, ErrBadSignature},
		{"too old", secret, h, string(body), at.Add(6 * time.Minute), ErrTooOld},
		{"from the future", secret, h, string(body), at.Add(-6 * time.Minute), ErrTooOld},
		{"empty", secret, "", string(body), at, ErrMalformedHeader},
		{"no v1", secret, "t=1800000000", string(body), at, ErrMalformedHeader},
		{"bad time", secret, "t=x,v1=00", string(body), at, ErrMalformedHeader},
	}
	for _, c := range cases {
		if err := Verify(c.secret, c.header, []byte(c.body), c.now, 5*time.Minute); !errors.Is(err, c.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.wantErr)
		}
	}
	// A rotated header with an old and a new signature verifies with either.
	rot := h + ",v1=" + Sign([]byte("new"), at, body)[len("t=1800000000,v1="):]
	for _, s := range []string{"s3cret", "new"} {
		if err := Verify([]byte(s), rot, body, at, time.Minute); err != nil {
			t.Errorf("rotated header with %s: %v", s, err)
		}
	}
	// Tolerance 0 skips the time check.
	if err := Verify(secret, h, body, at.Add(24*time.Hour), 0); err != nil {
		t.Errorf("tolerance 0: %v", err)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	base, maxD := time.Second, 20*time.Second
	prevMax := time.Duration(0)
	for attempt := 1; attempt <= 8; attempt++ {
		lo := Backoff(attempt, base, maxD, func() float64 { return 0 })
		hi := Backoff(attempt, base, maxD, func() float64 { return 0.999999 })
		if lo < prevMax && attempt <= 5 {
			t.Errorf("attempt %d: lowest delay %s below the previous highest %s", attempt, lo, prevMax)
		}
		if hi > maxD || lo < maxD/2 && attempt > 5 {
			t.Errorf("attempt %d: delay range %s..%s outside the cap", attempt, lo, hi)
		}
		if hi <= lo {
			t.Errorf("attempt %d: no jitter (%s..%s)", attempt, lo, hi)
		}
		prevMax = hi
	}
	if got := Backoff(1, base, maxD, func() float64 { return 0 }); got != base/2 {
		t.Errorf("first backoff = %s, want %s", got, base/2)
	}
}

func TestSendClassifies(t *testing.T) {
	status := 0
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	at := time.Unix(1_800_000_000, 0)
	req := Request{URL: srv.URL, DeliveryID: "d1", Type: "job.failed", Body: []byte(`{}`), Secret: []byte("k"), Now: at}
	for _, c := range []struct {
		status int
		want   Outcome
	}{{200, Delivered}, {204, Delivered}, {410, Gone}, {500, Retry}, {404, Retry}, {302, Retry}} {
		status = c.status
		r := Send(context.Background(), srv.Client(), req)
		if r.Outcome != c.want || r.Status != c.status {
			t.Errorf("status %d: outcome %v status %d, want %v", c.status, r.Outcome, r.Status, c.want)
		}
		if (r.Err == nil) != (c.want == Delivered) {
			t.Errorf("status %d: err %v", c.status, r.Err)
		}
	}
	if got.Header.Get(DeliveryHeader) != "d1" || got.Header.Get(EventHeader) != "job.failed" || got.Method != http.MethodPost {
		t.Errorf("headers %v method %s", got.Header, got.Method)
	}
	if err := Verify([]byte("k"), got.Header.Get(SignatureHeader), gotBody, at, time.Minute); err != nil {
		t.Errorf("signature of a sent request: %v", err)
	}
	srv.Close()
	if r := Send(context.Background(), http.DefaultClient, req); r.Outcome != Retry || r.Status != 0 || r.Err == nil {
		t.Errorf("closed server: %+v", r)
	}
}
