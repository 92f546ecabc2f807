package devcluster

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator/webhook"
	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestWebhooksReportARealJob runs a real encode on the dev cluster with a
// global and a per-job webhook: both receive the signed RUNNING and
// SUCCEEDED events, and the SUCCEEDED one carries the playback URLs.
func TestWebhooksReportARealJob(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes video; skipped with -short")
	}
	secret := []byte("devcluster-webhook-secret")
	type got struct {
		path string
		ev   webhook.Event
	}
	var mu sync.Mutex
	var events []got
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery to %s does not verify: %v", r.URL.Path, err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("payload %q: %v", body, err)
		}
		mu.Lock()
		events = append(events, got{r.URL.Path, ev})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	cfg := LoopbackConfig(t.TempDir())
	cfg.Coordinator.Webhooks.URLs = []string{recv.URL + "/global"}
	cfg.Coordinator.Webhooks.Secret = secret
	c, err := Start(cfg, testmedia.Logger(t, hclog.Info))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	jobs := v1.NewJobServiceClient(dialT(t, c, c.Coordinator.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 2})
	web := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer web.Close()
	resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source:      &v1.Source{Location: &v1.Source_Url{Url: web.URL + "/" + filepath.Base(clip)}},
		WebhookUrls: []string{recv.URL + "/job"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetJob().GetId()
	final := waitJob(t, ctx, jobs, id).GetJob()
	if final.GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %s: %s", final.GetState(), final.GetError())
	}

	// All four deliveries (2 events x 2 URLs) end DELIVERED in GetJob.
	deadline := time.Now().Add(time.Minute)
	for {
		g, err := jobs.GetJob(ctx, &v1.GetJobRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range g.GetJob().GetWebhookDeliveries() {
			if d.GetState() == v1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED && d.GetLastStatusCode() == http.StatusNoContent {
				n++
			}
		}
		if n == 4 && len(g.GetJob().GetWebhookDeliveries()) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %v", g.GetJob().GetWebhookDeliveries())
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]webhook.Event{}
	for _, e := range events {
		if e.ev.JobID != id {
			t.Errorf("event for job %q, want %q", e.ev.JobID, id)
		}
		seen[e.path+" "+e.ev.State] = e.ev
	}
	for _, k := range []string{"/global running", "/job running", "/global succeeded", "/job succeeded"} {
		if _, ok := seen[k]; !ok {
			t.Errorf("no %s event (got %v)", k, seen)
		}
	}
	if ev := seen["/job succeeded"]; ev.HLSURL != final.GetHlsUrl() || ev.DASHURL != final.GetDashUrl() || ev.HLSURL == "" || ev.Type != "job.succeeded" {
		t.Errorf("succeeded payload %+v, job URLs %s %s", ev, final.GetHlsUrl(), final.GetDashUrl())
	}
	if seen["/job succeeded"].EventID != seen["/global succeeded"].EventID || seen["/job succeeded"].DeliveryID == seen["/global succeeded"].DeliveryID {
		t.Errorf("deliveries of one event must share its event id and have their own delivery ids: %v", seen)
	}
}
