package coordinator

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vodfleet/vodfleet/coordinator/webhook"
	"github.com/vodfleet/vodfleet/internal/clock"
	"github.com/vodfleet/vodfleet/internal/etcdserver/etcdtest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// receiver is a real webhook receiver on loopback that answers with a
// scripted sequence of statuses (the last one repeats) and records what
// it got.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []receivedHook
}

type receivedHook struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, receivedHook{header: req.Header.Clone(), body: body})
		st := r.statuses[min(len(r.got), len(r.statuses))-1]
		r.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedHook(nil), r.got...)
}

// webhookCluster is embedded etcd with coordinators started on demand,
// sharing one fake clock.
type webhookCluster struct {
	t     *testing.T
	cli   *clientv3.Client
	clock *clock.Fake
	cfg   Config
}

func newWebhookCluster(t *testing.T, wh WebhookConfig) *webhookCluster {
	t.Helper()
	_, cli := etcdtest.Start(t)
	wh.Poll = 10 * time.Millisecond
	return &webhookCluster{t: t, cli: cli, clock: clock.NewFake(time.Unix(1_800_000_000, 0)), cfg: Config{
		SessionTTL: time.Second, TickInterval: 20 * time.Millisecond, AllowPrivateSources: true,
		PlaybackBaseURL: "http://edge.test", Webhooks: wh,
	}}
}

// runningCoordinator is one coordinator of a webhookCluster.
type runningCoordinator struct {
	c    *Coordinator
	jobs v1.JobServiceClient
	stop func()
}

// start runs a coordinator with its gRPC server; stop ends it (it resigns).
func (wc *webhookCluster) start() *runningCoordinator {
	t := wc.t
	t.Helper()
	c, err := New(wc.cfg, wc.cli, newRecordingPublisher(), hclog.NewNullLogger(), WithClock(wc.clock))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	c.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; conn.Close(); srv.Stop() }) }
	t.Cleanup(stop)
	return &runningCoordinator{c: c, jobs: v1.NewJobServiceClient(conn), stop: stop}
}

// eventually polls cond until it holds, failing after 60 s (generous: a
// race-enabled run on a loaded 2-core machine can take many seconds for
// an etcd round trip; this bounds a hang, it times nothing).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// submitAndCancel records a job with webhook URLs and cancels it, which
// emits a CANCELLED event without any agent.
func submitAndCancel(t *testing.T, rc *runningCoordinator, urls ...string) string {
	t.Helper()
	eventually(t, "leadership", rc.c.IsLeader)
	ctx := context.Background()
	resp, err := rc.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source: &v1.Source{Location: &v1.Source_Url{Url: "http://127.0.0.1:1/clip.mp4"}}, WebhookUrls: urls})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetJob().GetId()
	if _, err := rc.jobs.CancelJob(ctx, &v1.CancelJobRequest{JobId: id}); err != nil {
		t.Fatal(err)
	}
	return id
}

// delivery returns the job's delivery to a URL starting with prefix.
func delivery(t *testing.T, jobs v1.JobServiceClient, jobID, prefix string) *v1.WebhookDelivery {
	t.Helper()
	resp, err := jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: jobID})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.GetJob().GetWebhookDeliveries() {
		if strings.HasPrefix(d.GetUrl(), prefix) {
			return d
		}
	}
	return nil
}

// waitAttempts waits until the delivery made n attempts and returns it.
func waitAttempts(t *testing.T, jobs v1.JobServiceClient, jobID, prefix string, n int32) *v1.WebhookDelivery {
	t.Helper()
	var d *v1.WebhookDelivery
	eventually(t, fmt.Sprintf("attempt %d to %s", n, prefix), func() bool {
		d = delivery(t, jobs, jobID, prefix)
		return d != nil && d.GetAttempts() >= n
	})
	if d.GetAttempts() != n {
		t.Fatalf("delivery made %d attempts, want %d: %v", d.GetAttempts(), n, d)
	}
	return d
}

const testSecret = "webhook-test-secret"

func TestWebhookSignedRetriedWithGrowingBackoffThenDelivered(t *testing.T) {
	flaky := newReceiver(t, 500, 500, 200)
	global := newReceiver(t, 204)
	wc := newWebhookCluster(t, WebhookConfig{
		URLs: []string{global.srv.URL + "/all"}, Secret: []byte(testSecret),
		Backoff: 2 * time.Second, MaxBackoff: time.Minute, MaxAttempts: 5,
	})
	rc := wc.start()
	id := submitAndCancel(t, rc, flaky.srv.URL+"/hook?token=abc")

	// The global receiver takes it at once.
	g := waitAttempts(t, rc.jobs, id, global.srv.URL, 1)
	if g.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED || g.GetLastStatusCode() != 204 || !g.GetGlobal() {
		t.Fatalf("global delivery: %v", g)
	}

	var gaps []time.Duration
	for attempt := int32(1); attempt <= 2; attempt++ {
		d := waitAttempts(t, rc.jobs, id, flaky.srv.URL, attempt)
		if d.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING || d.GetLastStatusCode() != 500 || d.GetLastError() == "" {
			t.Fatalf("after attempt %d: %v", attempt, d)
		}
		gap := d.GetNextAttemptAt().AsTime().Sub(d.GetUpdatedAt().AsTime())
		if gap <= 0 {
			t.Fatalf("after attempt %d: next attempt %s is not after %s", attempt, d.GetNextAttemptAt().AsTime(), d.GetUpdatedAt().AsTime())
		}
		gaps = append(gaps, gap)
		if n := len(flaky.requests()); n != int(attempt) {
			t.Fatalf("receiver got %d requests before the backoff passed, want %d", n, attempt)
		}
		wc.clock.Advance(gap)
	}
	if gaps[1] <= gaps[0] {
		t.Errorf("backoff did not grow: %v", gaps)
	}
	d := waitAttempts(t, rc.jobs, id, flaky.srv.URL, 3)
	if d.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED || d.GetLastStatusCode() != 200 || d.GetGlobal() {
		t.Fatalf("final delivery: %v", d)
	}
	if strings.Contains(d.GetUrl(), "abc") || len(d.GetPayload()) != 0 {
		t.Errorf("GetJob shows the URL's token or the payload: %v", d)
	}

	reqs := flaky.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		sig := r.header.Get(webhook.SignatureHeader)
		if err := webhook.Verify([]byte(testSecret), sig, r.body, wc.clock.Now(), time.Hour); err != nil {
			t.Errorf("request %d: Verify: %v", i, err)
		}
		// Hand-computed HMAC-SHA256 over "t.body".
		ts, v1hex, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte(ts + "." + string(r.body)))
		if hex.EncodeToString(m.Sum(nil)) != v1hex {
			t.Errorf("request %d: signature %q is not HMAC-SHA256(secret, t.body)", i, sig)
		}
		if webhook.Verify([]byte("wrong"), sig, r.body, wc.clock.Now(), time.Hour) == nil {
			t.Errorf("request %d verifies with a wrong secret", i)
		}
		if r.header.Get(webhook.DeliveryHeader) != d.GetId() || string(r.body) != string(reqs[0].body) {
			t.Errorf("request %d: delivery id %q or body differs across retries", i, r.header.Get(webhook.DeliveryHeader))
		}
	}
	var ev webhook.Event
	if err := json.Unmarshal(reqs[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.JobID != id || ev.State != "cancelled" || ev.Type != "job.cancelled" || ev.DeliveryID != d.GetId() ||
		ev.EventID != d.GetEventId() || ev.EventID != g.GetEventId() || ev.Error == "" || ev.AssetID != id || !ev.Time.Equal(wc.clock.Now().Add(-gaps[0]-gaps[1])) {
		t.Errorf("payload %+v (delivery %v)", ev, d)
	}
}

func TestWebhookGoneStopsRetries(t *testing.T) {
	gone := newReceiver(t, 410)
	wc := newWebhookCluster(t, WebhookConfig{Secret: []byte(testSecret), Backoff: time.Second, MaxAttempts: 5})
	rc := wc.start()
	id := submitAndCancel(t, rc, gone.srv.URL)
	d := waitAttempts(t, rc.jobs, id, gone.srv.URL, 1)
	if d.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED || d.GetLastStatusCode() != 410 || d.GetNextAttemptAt() != nil {
		t.Fatalf("after 410: %v", d)
	}
	// Time passes and another event is delivered: the gone one is not retried.
	wc.clock.Advance(time.Hour)
	ok := newReceiver(t, 200)
	id2 := submitAndCancel(t, rc, ok.srv.URL)
	waitAttempts(t, rc.jobs, id2, ok.srv.URL, 1)
	if n := len(gone.requests()); n != 1 {
		t.Fatalf("410 receiver got %d requests, want 1", n)
	}
	if d := delivery(t, rc.jobs, id, gone.srv.URL); d.GetAttempts() != 1 {
		t.Fatalf("gone delivery: %v", d)
	}
}

func TestWebhookAttemptsAreBounded(t *testing.T) {
	down := newReceiver(t, 503)
	wc := newWebhookCluster(t, WebhookConfig{Backoff: time.Second, MaxAttempts: 2})
	rc := wc.start()
	id := submitAndCancel(t, rc, down.srv.URL)
	d := waitAttempts(t, rc.jobs, id, down.srv.URL, 1)
	wc.clock.Advance(d.GetNextAttemptAt().AsTime().Sub(wc.clock.Now()))
	d = waitAttempts(t, rc.jobs, id, down.srv.URL, 2)
	if d.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED || d.GetLastStatusCode() != 503 {
		t.Fatalf("after the last attempt: %v", d)
	}
	// Without a secret, deliveries carry no signature.
	if h := down.requests()[0].header.Get(webhook.SignatureHeader); h != "" {
		t.Errorf("unsigned delivery has signature %q", h)
	}
}

func TestWebhookPendingDeliveryResumesAfterLeaderChange(t *testing.T) {
	r := newReceiver(t, 500, 200)
	wc := newWebhookCluster(t, WebhookConfig{Secret: []byte(testSecret), Backoff: 4 * time.Second, MaxAttempts: 5})
	first := wc.start()
	eventually(t, "first leader", first.c.IsLeader)
	second := wc.start()
	id := submitAndCancel(t, first, r.srv.URL)
	d := waitAttempts(t, first.jobs, id, r.srv.URL, 1)
	if d.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING {
		t.Fatalf("after the first attempt: %v", d)
	}
	first.stop() // resigns: the deliverer stops with the leadership
	eventually(t, "second leader", second.c.IsLeader)
	wc.clock.Advance(d.GetNextAttemptAt().AsTime().Sub(wc.clock.Now()))
	d2 := waitAttempts(t, second.jobs, id, r.srv.URL, 2)
	if d2.GetState() != v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED || d2.GetId() != d.GetId() {
		t.Fatalf("after the leader change: %v", d2)
	}
	reqs := r.requests()
	if len(reqs) != 2 || reqs[0].header.Get(webhook.DeliveryHeader) != reqs[1].header.Get(webhook.DeliveryHeader) ||
		string(reqs[0].body) != string(reqs[1].body) {
		t.Fatalf("receiver got %d requests; the retry must repeat the delivery id and body", len(reqs))
	}
}

func TestJobWebhookURLsAreValidated(t *testing.T) {
	for _, c := range []struct {
		urls []string
		ok   bool
	}{
		{[]string{"https://hooks.example.com/x?token=1"}, true},
		{[]string{"ftp://hooks.example.com/x"}, false},
		{[]string{"/relative"}, false},
		{[]string{"http://127.0.0.1:9/x"}, false}, // default policy: no loopback
		{[]string{"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4", "https://a.example/5"}, false},
	} {
		err := validateJobWebhooks(c.urls)
		if (err == nil) != c.ok {
			t.Errorf("%v: err = %v", c.urls, err)
		}
		if err != nil && strings.Contains(err.Error(), "token") {
			t.Errorf("error repeats the URL: %v", err)
		}
	}
	if got := redactURL("https://user:pw@h.example/p?token=abc#f"); got != "https://h.example/p?redacted" {
		t.Errorf("redactURL = %q", got)
	}
}
