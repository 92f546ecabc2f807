package security

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRateLimiterTokenBucket(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewRateLimiter(10, 50, clk.now)
	for i := 0; i < 50; i++ {
		if !l.Allow("ci") {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	if l.Allow("ci") {
		t.Fatal("call 51 allowed past the burst")
	}
	if !l.Allow("other") {
		t.Fatal("another client is limited by ci's bucket")
	}
	clk.t = clk.t.Add(100 * time.Millisecond) // 10/s: one token back
	if !l.Allow("ci") {
		t.Fatal("no token after 100 ms at 10/s")
	}
	if l.Allow("ci") {
		t.Fatal("two tokens after 100 ms at 10/s")
	}
	clk.t = clk.t.Add(time.Hour)
	for i := 0; i < 50; i++ {
		if !l.Allow("ci") {
			t.Fatalf("bucket not refilled to the burst: call %d refused", i+1)
		}
	}
	if l.Allow("ci") {
		t.Fatal("bucket grew past the burst")
	}
}

// TestSubmitRateLimitOverGRPC: past the burst, SubmitJob gets
// ResourceExhausted for that client only; other methods are not limited.
func TestSubmitRateLimitOverGRPC(t *testing.T) {
	ts := startServer(t, false, true, func(c *Config) { c.SubmitRate, c.SubmitBurst = 0.0001, 3 })
	ctx := context.Background()
	submit := method{name: "/vodfleet.v1.JobService/SubmitJob"}
	list := method{name: "/vodfleet.v1.JobService/ListJobs"}
	sub := ts.dial(t, ts.withToken(RoleSubmitter))
	for i := 0; i < 3; i++ {
		if got := call(ctx, sub, submit); got != codes.Unimplemented {
			t.Fatalf("submit %d: %s, want Unimplemented (past auth and limit)", i+1, got)
		}
	}
	if got := call(ctx, sub, submit); got != codes.ResourceExhausted {
		t.Fatalf("submit 4: %s, want ResourceExhausted", got)
	}
	if got := call(ctx, sub, list); got != codes.Unimplemented {
		t.Fatalf("list after the submit limit: %s, want Unimplemented", got)
	}
	if got := call(ctx, ts.dial(t, ts.withToken(RoleAdmin)), submit); got != codes.Unimplemented {
		t.Fatalf("another client's submit: %s, want Unimplemented", got)
	}
}
