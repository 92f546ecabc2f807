package coordinator

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// fakeResult is a plausible result for a grant of the harness's agent: a
// video track per chunk with its own segment numbers, an audio track,
// thumbnails, manifests.
func fakeResult(g *v1.LeaseGrant) *v1.TaskResult {
	spec := g.GetTask().GetSpec()
	switch spec.GetKind() {
	case v1.TaskKind_TASK_KIND_ENCODE_VIDEO:
		first := max(spec.GetChunk().GetFirstSegment(), 1)
		r := spec.GetRendition()
		return &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{InitName: "init.mp4", Codecs: "avc1.64001f",
			Width: r.GetWidth(), Height: r.GetHeight(), FrameRate: 25, FirstSegment: first,
			Segments: []*v1.Segment{{Name: fmt.Sprintf("seg_%05d.m4s", first), DurationSeconds: 2, Size: 1000}}}}}
	case v1.TaskKind_TASK_KIND_ENCODE_AUDIO:
		return &v1.TaskResult{Result: &v1.TaskResult_Track{Track: &v1.TrackOutput{InitName: "init.mp4", Codecs: "mp4a.40.2",
			SampleRate: 48000, Channels: 2, FirstSegment: 1,
			Segments: []*v1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 2, Size: 100}, {Name: "seg_00002.m4s", DurationSeconds: 2, Size: 100}}}}}
	case v1.TaskKind_TASK_KIND_THUMBNAILS:
		return &v1.TaskResult{Result: &v1.TaskResult_Thumbnails{Thumbnails: &v1.ThumbnailOutput{Poster: "thumbs/poster.jpg", Vtt: "thumbs/thumbs.vtt"}}}
	case v1.TaskKind_TASK_KIND_PACKAGE:
		return &v1.TaskResult{Result: &v1.TaskResult_Package{Package: &v1.PackageResult{HlsMaster: "master.m3u8", DashManifest: "manifest.mpd"}}}
	case v1.TaskKind_TASK_KIND_TRANSFER:
		return &v1.TaskResult{Result: &v1.TaskResult_Transfer{Transfer: &v1.TransferOutput{FilesSent: 3, BytesSent: 300, BytesTotal: 300}}}
	}
	return &v1.TaskResult{}
}

// runUntilPackage completes every grant with fakeResult until the package
// task is granted, and returns the names granted before it and the
// package's grant (not completed).
func runUntilPackage(h *harness) ([]string, *v1.LeaseGrant) {
	h.t.Helper()
	var names []string
	for {
		m := h.recv()
		g := m.GetGrant()
		if g == nil {
			continue // a cancel of an earlier attempt
		}
		if g.GetTask().GetSpec().GetKind() == v1.TaskKind_TASK_KIND_PACKAGE {
			sort.Strings(names)
			return names, g
		}
		names = append(names, g.GetTask().GetName())
		if g.GetTask().GetSpec().GetKind() == v1.TaskKind_TASK_KIND_PROBE {
			h.mustComplete(g, &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: &v1.ProbeResult{
				HasVideo: true, HasAudio: true, Width: 640, Height: 360, FrameRate: 25, DurationSeconds: 4}}})
			continue
		}
		h.mustComplete(g, fakeResult(g))
	}
}

// finish completes a job's last grant and waits for the job to succeed.
func finish(h *harness, pkg *v1.LeaseGrant) {
	h.t.Helper()
	h.mustComplete(pkg, fakeResult(pkg))
	h.eventually("job succeeded", func() bool {
		r, err := h.jobs.GetJob(context.Background(), &v1.GetJobRequest{JobId: pkg.GetTask().GetJobId()})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_SUCCEEDED
	})
}

// trackDirs lists the track directories of a package grant.
func trackDirs(g *v1.LeaseGrant) []string {
	var dirs []string
	for _, tk := range g.GetTask().GetSpec().GetTracks() {
		dirs = append(dirs, fmt.Sprintf("%s:%d", tk.GetDir(), len(tk.GetSegments())))
	}
	sort.Strings(dirs)
	return dirs
}

// publishesOf filters the recorded publish calls to one job's tasks.
func publishesOf(h *harness, jobID string) []string {
	var out []string
	for _, c := range h.pub.published() {
		if strings.HasPrefix(c, "staging/"+jobID+".") {
			out = append(out, c)
		}
	}
	return out
}

// TestReencodeRunsOnlyNewRenditions drives reencode jobs with a
// hand-driven agent: only the added or replaced renditions' chunks are
// granted, the package covers kept and new tracks (chunks merged), new
// segments are published into their own directory before the manifests
// are published at the asset root, a replaced rendition gets a new
// directory, the catalog record changes only when a reencode succeeds,
// and a retried reencode re-runs only its unfinished chunk. Bad requests
// get NotFound, InvalidArgument or FailedPrecondition.
func TestReencodeRunsOnlyNewRenditions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	conn, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cat := v1.NewCatalogServiceClient(conn)
	src := &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}}
	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: src, SegmentSeconds: 2, Destinations: []string{"s3://bucket/vod"},
		Encode: &v1.EncodeOptions{ChunkSeconds: 2, Renditions: []*v1.RenditionRequest{{Name: "a", Height: 360}, {Name: "b", Height: 180}}}})
	if err != nil {
		t.Fatal(err)
	}
	asset := resp.GetJob().GetId()
	names, pkg := runUntilPackage(h)
	if got := strings.Join(names, " "); got != "audio probe thumbnails video-a-c01 video-a-c02 video-b-c01 video-b-c02" {
		t.Fatalf("first job ran %s", got)
	}
	h.mustComplete(pkg, fakeResult(pkg))
	push := h.grants(1)["transfer-01"]
	finish(h, push)
	record := func() *v1.Asset {
		r, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: asset})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAsset()
	}
	renditions := func() string {
		var out []string
		for _, r := range record().GetRenditions() {
			out = append(out, r.GetName())
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}

	// Bad requests.
	for name, c := range map[string]struct {
		req  *v1.ReencodeAssetRequest
		code codes.Code
	}{
		"unknown asset":   {&v1.ReencodeAssetRequest{AssetId: "00000000000000000000", Add: []*v1.RenditionRequest{{Height: 90}}}, codes.NotFound},
		"malformed asset": {&v1.ReencodeAssetRequest{AssetId: "../x", Add: []*v1.RenditionRequest{{Height: 90}}}, codes.InvalidArgument},
		"nothing to do":   {&v1.ReencodeAssetRequest{AssetId: asset}, codes.InvalidArgument},
		"unknown replace": {&v1.ReencodeAssetRequest{AssetId: asset, Replace: []string{"zzz"}}, codes.InvalidArgument},
		"name clash":      {&v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "a", Height: 270}}}, codes.InvalidArgument},
		"upscale":         {&v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Height: 720}}}, codes.InvalidArgument},
		"unknown rung":    {&v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "999p"}}}, codes.InvalidArgument},
	} {
		if _, err := h.jobs.ReencodeAsset(ctx, c.req); status.Code(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}

	// Add a rendition: only its two chunks run, then the package.
	rr, err := h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "c", Height: 270}}})
	if err != nil {
		t.Fatal(err)
	}
	r1 := rr.GetJob()
	if r1.GetAssetId() != asset || r1.GetReencode().GetBaseJobId() != asset {
		t.Fatalf("reencode job %v", r1)
	}
	if _, err := h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Height: 90}}}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("reencode while one runs: %v, want FailedPrecondition", err)
	}
	// Had two requests raced past that check, the leader fails the later
	// job before it runs.
	twin := proto.Clone(r1).(*v1.Job)
	twin.Id = h.c.ids.New()
	if err := h.c.store.CreateJob(ctx, twin, firstTasks(twin)...); err != nil {
		t.Fatal(err)
	}
	h.eventually("the racing twin failed", func() bool {
		r, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: twin.GetId()})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_FAILED && strings.Contains(r.GetJob().GetError(), r1.GetId())
	})
	names, pkg = runUntilPackage(h)
	if got := strings.Join(names, " "); got != "video-c-c01 video-c-c02" {
		t.Fatalf("reencode ran %s, want only the new rendition's chunks", got)
	}
	if got := strings.Join(trackDirs(pkg), " "); got != "audio:2 va:2 vb:2 vc:2" {
		t.Fatalf("package covers %s", got)
	}
	if pkg.GetTask().GetSpec().GetAssetId() != asset || len(pkg.GetTask().GetSpec().GetExtras()) != 1 {
		t.Fatalf("package spec: asset %q, extras %v", pkg.GetTask().GetSpec().GetAssetId(), pkg.GetTask().GetSpec().GetExtras())
	}
	// New segments are in the asset before the manifests are even made.
	h.eventually("new chunks published", func() bool { return len(publishesOf(h, r1.GetId())) == 2 })
	for _, c := range publishesOf(h, r1.GetId()) {
		if !strings.HasSuffix(c, " -> assets/"+asset+"/vc/") {
			t.Fatalf("reencode published %s before its package", c)
		}
	}
	if got := renditions(); got != "a b" {
		t.Fatalf("record changed before the reencode ended: %s", got)
	}
	finish(h, pkg)
	calls := publishesOf(h, r1.GetId())
	if last := calls[len(calls)-1]; last != "staging/"+r1.GetId()+".package/1/ -> assets/"+asset+"/" || len(calls) != 3 {
		t.Fatalf("publishes %v: want the two chunks, then the manifests at the asset root", calls)
	}
	h.eventually("record lists the new rendition", func() bool { return renditions() == "a b c" })
	if a := record(); a.GetState() != v1.AssetState_ASSET_STATE_READY || a.GetOutputs().GetHlsMaster() != "master.m3u8" ||
		len(a.GetDestinations()) != 1 || a.GetDestinations()[0].GetState() != "DONE" {
		t.Fatalf("record after reencode (the first job's delivery kept): %v", a)
	}
	got, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: r1.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range got.GetTasks() {
		if isKept(tk) != (tk.GetAttempt() == 0) || tk.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED {
			t.Errorf("task %s: attempt %d, %s", tk.GetName(), tk.GetAttempt(), tk.GetState())
		}
	}

	// Replace b with new settings: a new directory; the old vb is no
	// longer in the manifests.
	rr, err = h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Replace: []string{"b"},
		Add: []*v1.RenditionRequest{{Name: "b", Height: 180, VideoBitrate: 123_000}}})
	if err != nil {
		t.Fatal(err)
	}
	r2 := rr.GetJob()
	if rs := r2.GetReencode().GetRenditions(); len(rs) != 1 || rs[0].GetName() != "b" || rs[0].GetVideoBitrate() != 123_000 {
		t.Fatalf("replace with new settings encodes %v", rs)
	}
	names, pkg = runUntilPackage(h)
	if got := strings.Join(names, " "); got != "video-b-c01 video-b-c02" {
		t.Fatalf("replace ran %s", got)
	}
	newDir := "vb_r" + r2.GetId()
	if got := strings.Join(trackDirs(pkg), " "); got != "audio:2 va:2 "+newDir+":2 vc:2" {
		t.Fatalf("package after replace covers %s", got)
	}
	finish(h, pkg)
	for _, c := range publishesOf(h, r2.GetId())[:2] {
		if !strings.HasSuffix(c, " -> assets/"+asset+"/"+newDir+"/") {
			t.Fatalf("replace published %s", c)
		}
	}
	if got := renditions(); got != "a b c" {
		t.Fatalf("record after replace: %s", got)
	}

	// A reencode that fails leaves the record alone; retried, it re-runs
	// only its failed chunk (the finished one is kept).
	rr, err = h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "d", Height: 90}}})
	if err != nil {
		t.Fatal(err)
	}
	r3 := rr.GetJob()
	gs := h.grants(2)
	h.mustComplete(gs["video-d-c01"], fakeResult(gs["video-d-c01"]))
	h.eventually("chunk 1 published", func() bool { return len(publishesOf(h, r3.GetId())) == 1 })
	h.fail(gs["video-d-c02"], "encoder exploded", false)
	h.eventually("reencode failed", func() bool {
		r, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: r3.GetId()})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_FAILED
	})
	if a := record(); a.GetState() != v1.AssetState_ASSET_STATE_READY || renditions() != "a b c" {
		t.Fatalf("a failed reencode changed the record: %v", a)
	}
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: r3.GetId()}); err != nil {
		t.Fatal(err)
	}
	if a := record(); a.GetState() != v1.AssetState_ASSET_STATE_READY {
		t.Fatalf("a retried reencode changed the record: %v", a)
	}
	names, pkg = runUntilPackage(h)
	if got := strings.Join(names, " "); got != "video-d-c02" {
		t.Fatalf("retried reencode ran %s, want only the failed chunk", got)
	}
	finish(h, pkg)
	if c1 := h.task(r3.GetId(), "video-d-c01"); c1.GetAttempt() != 1 {
		t.Fatalf("finished chunk re-ran: attempt %d", c1.GetAttempt())
	}
	if calls := publishesOf(h, r3.GetId()); len(calls) != 3 {
		t.Fatalf("retried reencode published %v, want chunk 1 once, chunk 2, package", calls)
	}
	h.eventually("record lists d", func() bool { return renditions() == "a b c d" })

	// A failed reencode cannot be retried once the asset changed: its
	// manifests would drop the change.
	rr, err = h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "e", Height: 90}}})
	if err != nil {
		t.Fatal(err)
	}
	r4 := rr.GetJob()
	gs = h.grants(2)
	h.fail(gs["video-e-c01"], "encoder exploded", false)
	h.eventually("reencode failed", func() bool {
		r, err := h.jobs.GetJob(ctx, &v1.GetJobRequest{JobId: r4.GetId()})
		return err == nil && r.GetJob().GetState() == v1.JobState_JOB_STATE_FAILED
	})
	if _, err := h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: asset, Add: []*v1.RenditionRequest{{Name: "f", Height: 90}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: r4.GetId()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("retry of a reencode while another runs: %v, want FailedPrecondition", err)
	}
	_, pkg = runUntilPackage(h)
	finish(h, pkg)
	if _, err := h.jobs.RetryJob(ctx, &v1.RetryJobRequest{JobId: r4.GetId()}); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("retry of a reencode whose asset changed: %v, want FailedPrecondition", err)
	}
	h.eventually("record lists f", func() bool { return renditions() == "a b c d f" })

	// An asset whose own job still runs cannot be changed.
	resp, err = h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	h.grants(1) // its probe, left running
	if _, err := h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: resp.GetJob().GetId(), Add: []*v1.RenditionRequest{{Height: 90}}}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("reencode of a running asset: %v, want FailedPrecondition", err)
	}
}

// TestReencodeProgressCountsOnlyItsOwnWork: kept tasks are no work of the
// reencode job, and it has no probe to wait for.
func TestReencodeProgressCountsOnlyItsOwnWork(t *testing.T) {
	job := &v1.Job{State: v1.JobState_JOB_STATE_RUNNING, Reencode: &v1.ReencodeSpec{}}
	kept := &v1.Task{Name: "kept-va", State: v1.TaskState_TASK_STATE_SUCCEEDED,
		Spec: &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_VIDEO}}
	video := &v1.Task{Name: "video-c", State: v1.TaskState_TASK_STATE_PENDING,
		Spec: &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_VIDEO}}
	pkg := &v1.Task{Name: "package", State: v1.TaskState_TASK_STATE_PENDING,
		Spec: &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_PACKAGE}}
	if p := jobProgress(job, []*v1.Task{kept, video, pkg}); p != 0.05 {
		t.Fatalf("progress before any work %v, want 0.05", p)
	}
	video.Progress = 0.5
	if p := jobProgress(job, []*v1.Task{kept, video, pkg}); p != 0.05+0.9*0.5 {
		t.Fatalf("progress half way %v", p)
	}
}

// TestReencodeRefusesOversizedRecords: an asset whose kept segment lists
// would not fit one etcd request is refused up front.
func TestReencodeRefusesOversizedRecords(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	resp, err := h.jobs.SubmitJob(ctx, &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "http://example.invalid/a.mp4"}},
		Encode: &v1.EncodeOptions{ChunkSeconds: -1, Renditions: []*v1.RenditionRequest{{Name: "a", Height: 360}},
			Outputs: &v1.Outputs{Thumbnails: proto.Bool(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	h.mustComplete(h.grants(1)["probe"], &v1.TaskResult{Result: &v1.TaskResult_Probe{Probe: &v1.ProbeResult{
		HasVideo: true, Width: 640, Height: 360, FrameRate: 25, DurationSeconds: 80000}}})
	g := h.grants(1)["video-a"]
	long := &v1.TrackOutput{InitName: "init.mp4", Width: 640, Height: 360}
	for i := range 20000 {
		long.Segments = append(long.Segments, &v1.Segment{Name: fmt.Sprintf("seg_%05d.m4s", i+1), DurationSeconds: 4, Size: 100000})
	}
	h.mustComplete(g, &v1.TaskResult{Result: &v1.TaskResult_Track{Track: long}})
	finish(h, h.grants(1)["package"])
	_, err = h.jobs.ReencodeAsset(ctx, &v1.ReencodeAssetRequest{AssetId: resp.GetJob().GetId(), Add: []*v1.RenditionRequest{{Height: 180}}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than one etcd request holds") {
		t.Fatalf("oversized reencode: %v, want InvalidArgument", err)
	}
}
