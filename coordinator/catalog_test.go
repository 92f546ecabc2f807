package coordinator

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestCatalogFollowsJobStates: the record is created at submit, turns
// FAILED with the job (in the leader's fenced write) and PROCESSING again
// on retry; presets are copied into the job with their version; bad
// catalog fields and unknown presets are InvalidArgument.
func TestCatalogFollowsJobStates(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	conn, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cat, presets := v1.NewCatalogServiceClient(conn), v1.NewPresetServiceClient(conn)
	src := &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}}

	if _, err := presets.SetPreset(ctx, &v1.SetPresetRequest{Preset: &v1.Preset{Name: "p",
		Encode: &v1.EncodeOptions{Renditions: []*v1.RenditionRequest{{Height: 1}}}}}); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "preset.encode") {
		t.Fatalf("bad preset: %v", err)
	}
	if _, err := presets.SetPreset(ctx, &v1.SetPresetRequest{Preset: &v1.Preset{Name: "p", SegmentSeconds: 2,
		Encode: &v1.EncodeOptions{Codec: v1.VideoCodec_VIDEO_CODEC_HEVC, Renditions: []*v1.RenditionRequest{{Height: 360}}}}}); err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]*v1.SubmitJobRequest{
		"unknown preset": {Source: src, Preset: "nope"},
		"bad tag":        {Source: src, Tags: []string{"no spaces"}},
		"bad meta":       {Source: src, Meta: map[string]string{"k": ""}},
	} {
		if _, err := h.jobs.SubmitJob(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}

	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: src, Title: "Doomed", Tags: []string{"x"}, Preset: "p",
		Encode: &v1.EncodeOptions{MaxFrameRate: 30}})
	if err != nil {
		t.Fatal(err)
	}
	job := resp.GetJob()
	if job.GetPreset() != "p" || job.GetPresetVersion() != 1 || job.GetSegmentSeconds() != 2 ||
		job.GetEncode().GetCodec() != v1.VideoCodec_VIDEO_CODEC_HEVC || len(job.GetEncode().GetRenditions()) != 1 ||
		job.GetEncode().GetMaxFrameRate() != 30 {
		t.Fatalf("job from preset: %v", job)
	}
	asset := func() *v1.Asset {
		r, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: job.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAsset()
	}
	if a := asset(); a.GetState() != v1.AssetState_ASSET_STATE_PROCESSING || a.GetTitle() != "Doomed" || a.GetPresetVersion() != 1 {
		t.Fatalf("record at submit: %v", a)
	}
	h.fail(h.grants(1)["probe"], "invalid data found when processing input", false)
	h.eventually("record failed", func() bool {
		a := asset()
		return a.GetState() == v1.AssetState_ASSET_STATE_FAILED && strings.Contains(a.GetError(), "invalid data") && a.GetTitle() == "Doomed"
	})
	failed, err := cat.SearchAssets(ctx, &v1.SearchAssetsRequest{State: v1.AssetState_ASSET_STATE_FAILED})
	if err != nil || len(failed.GetAssets()) != 1 {
		t.Fatalf("failed listing: %v %v", failed, err)
	}
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: job.GetId()}); err != nil {
		t.Fatal(err)
	}
	h.eventually("record processing again", func() bool {
		return asset().GetState() == v1.AssetState_ASSET_STATE_PROCESSING && asset().GetError() == ""
	})
	if r, _ := cat.SearchAssets(ctx, &v1.SearchAssetsRequest{State: v1.AssetState_ASSET_STATE_FAILED}); len(r.GetAssets()) != 0 {
		t.Fatalf("failed index kept after retry: %v", r)
	}
	// A record whose job still runs is not deleted: the job's final write
	// would bring part of it back.
	_, err = cat.DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{AssetId: job.GetId()})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "still used by job "+job.GetId()) {
		t.Fatalf("delete while the job runs: %v, want FailedPrecondition naming the job", err)
	}
	if asset().GetTitle() != "Doomed" {
		t.Fatal("the refused delete touched the record")
	}
	if _, err := h.jobs.CancelJob(ctx, &v1.CancelJobRequest{JobId: job.GetId()}); err != nil {
		t.Fatal(err)
	}
	h.eventually("delete after the cancel", func() bool {
		_, err := cat.DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{AssetId: job.GetId()})
		return err == nil
	})
	if _, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: job.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("record after the delete: %v, want NotFound", err)
	}
}
