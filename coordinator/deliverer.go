package coordinator

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/coordinator/webhook"
	"github.com/vodfleet/vodfleet/internal/clock"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// pendingDelivery is a webhook delivery the deliverer still has to make,
// with the ModRevision of its record (its writes are CAS'd on it).
type pendingDelivery struct {
	rec *v1.WebhookDelivery
	rev int64
	// inflight is set while an attempt runs.
	inflight bool
	// retryWrite delays the next attempt after a failed etcd write (the
	// record then still says what the last durable state was).
	retryWrite time.Time
}

// deliverer makes the leader's webhook deliveries, off the leader loop.
// It lives as long as one leadership term: it starts with the PENDING
// records found at takeover, gets new ones from the loop once they are
// committed, and writes each attempt's outcome to the delivery's own
// record, fenced on the leader's election key. It never writes job
// records, so it cannot break the loop's CAS on them. Delivery is at
// least once: the outcome is written after the POST, so a leader change
// in between repeats the POST (with the same delivery id).
type deliverer struct {
	cfg   WebhookConfig
	store *Store
	fence Fence
	clock clock.Clock
	log   hclog.Logger
	// trusted posts to the global (operator) URLs; guarded to job-supplied
	// URLs, through the source URL policy's connect-time checks.
	trusted, guarded *http.Client
	rnd              func() float64

	mu      sync.Mutex
	pending map[string]*pendingDelivery
	wg      sync.WaitGroup
	slots   chan struct{}
}

func newDeliverer(l *leader) *deliverer {
	w := l.cfg.Webhooks
	return &deliverer{
		cfg:     w,
		store:   l.store,
		fence:   l.fence,
		clock:   l.clock,
		log:     l.log.Named("webhooks"),
		trusted: &http.Client{Timeout: w.Timeout},
		guarded: l.cfg.SourcePolicy().HTTPClient(w.Timeout),
		rnd:     rand.Float64,
		pending: map[string]*pendingDelivery{},
		slots:   make(chan struct{}, w.Workers),
	}
}

// add takes a delivery whose record is committed at p.rev.
func (d *deliverer) add(p *pendingDelivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[p.rec.GetId()]; !ok {
		d.pending[p.rec.GetId()] = p
	}
}

// run starts due attempts until ctx (the leadership) ends, then waits for
// the attempts in flight, which ctx cancels.
func (d *deliverer) run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	defer d.wg.Wait()
	for {
		d.startDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startDue starts an attempt for every due delivery a worker slot is free
// for; the rest wait for the next poll.
func (d *deliverer) startDue(ctx context.Context) {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.pending {
		if p.inflight || now.Before(p.rec.GetNextAttemptAt().AsTime()) || now.Before(p.retryWrite) {
			continue
		}
		select {
		case d.slots <- struct{}{}:
		default:
			return
		}
		p.inflight = true
		rec, rev := proto.Clone(p.rec).(*v1.WebhookDelivery), p.rev
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() { <-d.slots }()
			d.attempt(ctx, p, rec, rev)
		}()
	}
}

// attempt makes one POST and records its outcome.
func (d *deliverer) attempt(ctx context.Context, p *pendingDelivery, rec *v1.WebhookDelivery, rev int64) {
	client := d.guarded
	if rec.GetGlobal() {
		client = d.trusted
	}
	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	res := webhook.Send(actx, client, webhook.Request{
		URL: rec.GetUrl(), DeliveryID: rec.GetId(), Type: webhook.TypeOf(eventState(rec.GetEvent())),
		Body: rec.GetPayload(), Secret: d.cfg.Secret, Now: d.clock.Now(),
	})
	cancel()
	if ctx.Err() != nil {
		return // leadership ended mid-attempt; the next leader retries
	}
	now := d.clock.Now()
	rec.Attempts++
	rec.LastStatusCode = int32(res.Status)
	rec.LastError = ""
	if res.Err != nil {
		rec.LastError = res.Err.Error()
	}
	rec.UpdatedAt = timestamp(now)
	rec.NextAttemptAt = nil
	switch {
	case res.Outcome == webhook.Delivered:
		rec.State = v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED
	case res.Outcome == webhook.Gone, int(rec.GetAttempts()) >= d.cfg.MaxAttempts:
		rec.State = v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED
	default:
		rec.NextAttemptAt = timestamp(now.Add(webhook.Backoff(int(rec.GetAttempts()), d.cfg.Backoff, d.cfg.MaxBackoff, d.rnd)))
	}
	log := d.log.With("delivery", rec.GetId(), "job", rec.GetJobId(), "attempt", rec.GetAttempts(), "status", res.Status)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	newRev, err := d.store.apply(wctx, d.fence, write{key: d.store.keys.webhook(rec.GetJobId(), rec.GetId()), msg: rec, expectRev: rev})
	wcancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	p.inflight = false
	switch {
	case errors.Is(err, ErrConflict):
		// Deposed (or the record changed under us): the successor owns it.
		log.Warn("webhook delivery record changed, dropping it", "error", err)
		delete(d.pending, rec.GetId())
		return
	case err != nil:
		log.Warn("cannot record webhook attempt, will retry", "error", err)
		p.retryWrite = now.Add(d.cfg.Backoff)
		return
	}
	p.rec, p.rev = rec, newRev
	switch rec.GetState() {
	case v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED:
		log.Debug("webhook delivered")
		delete(d.pending, rec.GetId())
	case v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED:
		log.Warn("webhook delivery failed for good", "error", res.Err)
		delete(d.pending, rec.GetId())
	default:
		log.Info("webhook attempt failed, will retry", "error", res.Err, "next", rec.GetNextAttemptAt().AsTime())
	}
}

// eventState is a job state as webhook events name it: "succeeded".
func eventState(s v1.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}
