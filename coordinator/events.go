package coordinator

import (
	"fmt"

	"github.com/vodfleet/vodfleet/coordinator/webhook"
	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// jobEvent returns the writes that create one webhook delivery per target
// URL (global, then the job's) for the state jr's job just entered. The
// caller stages them in the same group as the job write, so the event
// exists exactly when the state change does. Once committed, the
// deliveries go to the deliverer. Runs on the loop.
func (l *leader) jobEvent(jr *jobRecord) []write {
	global := l.cfg.Webhooks.URLs
	targets := append(append([]string(nil), global...), jr.job.GetWebhookUrls()...)
	if len(targets) == 0 {
		return nil
	}
	now := l.clock.Now()
	eventID := ids.TimeRandom{Now: l.clock.Now}.New()
	job := jr.job
	hls, dash := playbackURLs(l.cfg.PlaybackBaseURL, job)
	ws := make([]write, 0, len(targets))
	pds := make([]*pendingDelivery, 0, len(targets))
	for i, u := range targets {
		id := fmt.Sprintf("%s-%d", eventID, i)
		body, err := webhook.Event{
			EventID: eventID, DeliveryID: id, Type: webhook.TypeOf(eventState(job.GetState())),
			JobID: job.GetId(), State: eventState(job.GetState()), Error: job.GetError(),
			AssetID: job.GetAssetId(), HLSURL: hls, DASHURL: dash, Time: now.UTC(),
		}.Marshal()
		if err != nil {
			l.log.Error("cannot encode webhook event", "job", job.GetId(), "error", err)
			return nil
		}
		pd := &pendingDelivery{rec: &v1.WebhookDelivery{
			Id: id, EventId: eventID, JobId: job.GetId(), Url: u, Event: job.GetState(),
			State:         v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING,
			NextAttemptAt: timestamp(now), CreatedAt: timestamp(now), UpdatedAt: timestamp(now),
			Payload: body, Global: i < len(global),
		}}
		pds = append(pds, pd)
		ws = append(ws, write{key: l.store.keys.webhook(job.GetId(), id), msg: pd.rec, expectRev: 0, revs: []*int64{&pd.rev}})
	}
	l.afterCommit(func() {
		for _, pd := range pds {
			l.hooks.add(pd)
		}
	})
	return ws
}
