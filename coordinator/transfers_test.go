package coordinator

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// jobOf reads a job with its derived fields.
func (h *harness) jobOf(id string) *v1.Job {
	h.t.Helper()
	r, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: id})
	if err != nil {
		h.t.Fatal(err)
	}
	return r.GetJob()
}

// TestTransferTasksFailOnlyTheirDestination: transfer tasks start once the
// package is published, report progress in bytes, retry with backoff, and
// a destination that fails for good fails only itself: the job succeeds
// when the other destination is done. TransferAsset pushes the asset again
// as a transfer-only job.
func TestTransferTasksFailOnlyTheirDestination(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, bad := range []string{"ftp://u:pw@h/d", "s3://b/p?sig=1", "file://host/x", "ftp://h"} {
		_, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}},
			Destinations: []string{bad}})
		if status.Code(err) != codes.InvalidArgument || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("destination %q answered %v, want InvalidArgument without the URL", bad, err)
		}
	}
	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
		Source:       &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}},
		Encode:       &v1.EncodeOptions{Outputs: &v1.Outputs{Thumbnails: proto.Bool(false)}},
		Destinations: []string{"s3://bucket/vod", "sftp://pusher@sftp.example/srv/vod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jobID := resp.GetJob().GetId()
	h.mustComplete(h.grants(1)["probe"], &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: &v1.ProbeResult{
		HasVideo: true, HasAudio: true, Width: 640, Height: 360, FrameRate: 25, DurationSeconds: 4}}})
	for _, g := range h.grants(2) {
		h.mustComplete(g, track())
	}
	h.mustComplete(h.grants(1)["package"], &v1.TaskResult{Result: &v1.TaskResult_Package{Package: &v1.PackageResult{HlsMaster: "master.m3u8"}}})
	gs := h.grants(2)
	s3, sftp := gs["transfer-01"], gs["transfer-02"]
	if s3 == nil || sftp == nil || s3.GetTask().GetSpec().GetAssetId() != jobID || sftp.GetTask().GetSpec().GetDestination().GetUrl() != "sftp://pusher@sftp.example/srv/vod" {
		t.Fatalf("transfer grants %v", gs)
	}
	if j := h.jobOf(jobID); j.GetState() != v1.JobState_JOB_STATE_RUNNING || j.GetHlsMaster() != "master.m3u8" {
		t.Fatalf("job with running transfers is %s (master %q)", j.GetState(), j.GetHlsMaster())
	}

	// Progress in bytes shows per destination (progress is persisted at
	// most once a second).
	h.clock.Advance(2 * time.Second)
	h.send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Progress{Progress: &v1.TaskProgress{
		TaskId: s3.GetTask().GetId(), LeaseToken: s3.GetLeaseToken(), Progress: 0.5, BytesDone: 500, BytesTotal: 1000}}})
	h.eventually("bytes shown", func() bool {
		ds := h.jobOf(jobID).GetDestinationStates()
		return len(ds) == 2 && ds[0].GetState() == destRunning && ds[0].GetBytesDone() == 500 && ds[0].GetBytesTotal() == 1000
	})

	// A server outage is retried after the backoff; refused credentials fail
	// the destination at once.
	h.fail(sftp, "dial tcp: connection refused", true)
	h.eventually("sftp requeued", func() bool {
		return h.task(jobID, "transfer-02").GetState() == v1.TaskState_TASK_STATE_PENDING
	})
	h.clock.Advance(3 * time.Second)
	retry := h.grants(1)["transfer-02"]
	if retry.GetAttempt() != 2 {
		t.Fatalf("sftp retry is attempt %d", retry.GetAttempt())
	}
	h.fail(retry, "authentication failed: sftp.example refused the key", false)
	h.eventually("sftp failed", func() bool {
		ds := h.jobOf(jobID).GetDestinationStates()
		return len(ds) == 2 && ds[1].GetState() == destFailed
	})
	if j := h.jobOf(jobID); j.GetState() != v1.JobState_JOB_STATE_RUNNING {
		t.Fatalf("one failed destination ended the job: %s %s", j.GetState(), j.GetError())
	}
	h.mustComplete(s3, &v1.TaskResult{Result: &v1.TaskResult_Transfer{Transfer: &v1.TransferOutput{FilesSent: 5, BytesSent: 1000, BytesTotal: 1000}}})
	h.eventually("job succeeded", func() bool { return h.jobOf(jobID).GetState() == v1.JobState_JOB_STATE_SUCCEEDED })
	rec, err := h.c.catalog.GetAsset(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if d := rec.GetDestinations(); rec.GetState() != v1.AssetState_ASSET_STATE_READY || len(d) != 2 || d[0].GetState() != destDone || d[1].GetState() != destFailed {
		t.Errorf("catalog record %s with destinations %v", rec.GetState(), d)
	}
	j := h.jobOf(jobID)
	ds := j.GetDestinationStates()
	if j.GetError() != "" || ds[0].GetState() != destDone || ds[0].GetBytesDone() != 1000 ||
		ds[1].GetError() != "authentication failed: sftp.example refused the key" || ds[1].GetAttempts() != 2 {
		t.Fatalf("job error %q, destinations %v", j.GetError(), ds)
	}

	// Push the asset again.
	if _, err := h.jobs.TransferAsset(ctx, &v1.TransferAssetRequest{AssetId: jobID}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("transfer without destinations answered %v", err)
	}
	tr, err := h.jobs.TransferAsset(ctx, &v1.TransferAssetRequest{AssetId: jobID, Destinations: []string{"sftp://pusher@sftp.example/srv/vod"}})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.GetJob().GetTransferOnly() || tr.GetJob().GetAssetId() != jobID {
		t.Fatalf("transfer job %v", tr.GetJob())
	}
	again := h.grants(1)["transfer-01"]
	if again.GetTask().GetJobId() != tr.GetJob().GetId() || again.GetTask().GetSpec().GetAssetId() != jobID || len(again.GetTask().GetDependsOn()) != 0 {
		t.Fatalf("re-push grant %v", again.GetTask())
	}
	h.mustComplete(again, &v1.TaskResult{Result: &v1.TaskResult_Transfer{Transfer: &v1.TransferOutput{FilesSkipped: 5, BytesTotal: 1000}}})
	h.eventually("transfer job succeeded", func() bool {
		return h.jobOf(tr.GetJob().GetId()).GetState() == v1.JobState_JOB_STATE_SUCCEEDED
	})
	// The asset's record shows the re-pushed destination done, the other
	// one unchanged.
	rec, err = h.c.catalog.GetAsset(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if d := rec.GetDestinations(); len(d) != 2 || d[0].GetState() != destDone || d[1].GetState() != destDone || d[1].GetError() != "" {
		t.Errorf("catalog destinations after the re-push: %v", d)
	}
	if _, err := h.jobs.TransferAsset(ctx, &v1.TransferAssetRequest{AssetId: tr.GetJob().GetId(), Destinations: []string{"s3://b/p"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a transfer job as asset answered %v", err)
	}
}
