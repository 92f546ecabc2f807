package devcluster

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestCatalogRecordFollowsJobAndPreset submits jobs with catalog fields
// and a stored preset: each ends with a READY record carrying the probe
// facts and renditions, and editing the preset between the jobs leaves
// the first record as it was.
func TestCatalogRecordFollowsJobAndPreset(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test encodes video; skipped with -short")
	}
	c, jobs, st := startCluster(t)
	conn := dialT(t, c, c.Coordinator.Addr)
	cat, presets := v1.NewCatalogServiceClient(conn), v1.NewPresetServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 3})
	path := "sources/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/" + filepath.Base(clip)
	if _, err := st.PutFile(ctx, path, clip, ""); err != nil {
		t.Fatalf("upload: %v", err)
	}
	setPreset := func(height int32, name string) *v1.Preset {
		resp, err := presets.SetPreset(ctx, &v1.SetPresetRequest{Preset: &v1.Preset{Name: "tiny",
			Encode: &v1.EncodeOptions{Renditions: []*v1.RenditionRequest{{Height: height, Name: name, VideoBitrate: 200_000}}}}})
		if err != nil {
			t.Fatalf("set preset: %v", err)
		}
		return resp.GetPreset()
	}
	submit := func(title string, tags ...string) string {
		resp, err := jobs.SubmitJob(ctx, &v1.SubmitJobRequest{
			Source: &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}},
			Title:  title, Tags: tags, Meta: map[string]string{"lang": "en"}, Preset: "tiny"})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		id := resp.GetJob().GetId()
		a, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: id})
		if err != nil || a.GetAsset().GetState() != v1.AssetState_ASSET_STATE_PROCESSING || a.GetAsset().GetTitle() != title {
			t.Fatalf("record right after submit: %v %v", a, err)
		}
		if end := waitJob(t, ctx, jobs, id); end.GetJob().GetState() != v1.JobState_JOB_STATE_SUCCEEDED {
			t.Fatalf("job %s ended %s: %s", id, end.GetJob().GetState(), end.GetJob().GetError())
		}
		return id
	}
	get := func(id string) *v1.Asset {
		resp, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: id})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetAsset()
	}

	if p := setPreset(180, "small"); p.GetVersion() != 1 {
		t.Fatalf("preset version %d", p.GetVersion())
	}
	first := submit("Catalog test clip", "E2E", "demo")
	a := get(first)
	t.Logf("first record: %v", a)
	src := a.GetSource()
	switch {
	case a.GetState() != v1.AssetState_ASSET_STATE_READY:
		t.Fatalf("state %s", a.GetState())
	case strings.Join(a.GetTags(), ",") != "demo,e2e" || a.GetMeta()["lang"] != "en":
		t.Fatalf("tags %v meta %v", a.GetTags(), a.GetMeta())
	case src.GetWidth() != 320 || src.GetHeight() != 180 || src.GetVideoCodec() == "" || src.GetContainer() == "" ||
		math.Abs(src.GetDurationSeconds()-3) > 0.2 || len(src.GetAudioTracks()) != 1 || src.GetFrameRate() <= 0:
		t.Fatalf("source facts %v", src)
	case len(a.GetRenditions()) != 1 || a.GetRenditions()[0].GetName() != "small" || a.GetRenditions()[0].GetHeight() != 180 ||
		a.GetRenditions()[0].GetSizeBytes() <= 0 || a.GetRenditions()[0].GetAverageBitrate() <= 0:
		t.Fatalf("renditions %v", a.GetRenditions())
	case a.GetOutputs().GetHlsMaster() == "" || a.GetOutputs().GetHlsUrl() == "" || a.GetSizeBytes() < a.GetRenditions()[0].GetSizeBytes():
		t.Fatalf("outputs %v size %d", a.GetOutputs(), a.GetSizeBytes())
	case a.GetPreset() != "tiny" || a.GetPresetVersion() != 1:
		t.Fatalf("preset %s v%d", a.GetPreset(), a.GetPresetVersion())
	}

	// Edit the preset, run a second job: it uses version 2, the first
	// record keeps version 1 and its rendition.
	if p := setPreset(144, "smaller"); p.GetVersion() != 2 {
		t.Fatalf("preset version %d", p.GetVersion())
	}
	second := submit("Second clip", "e2e")
	b := get(second)
	if b.GetPresetVersion() != 2 || len(b.GetRenditions()) != 1 || b.GetRenditions()[0].GetName() != "smaller" {
		t.Fatalf("second record: %v", b)
	}
	again := get(first)
	if again.GetPresetVersion() != 1 || again.GetRenditions()[0].GetName() != "small" || again.GetRenditions()[0].GetHeight() != 180 {
		t.Fatalf("first record changed after the preset edit: %v", again)
	}

	// Filters through the service.
	for _, q := range []struct {
		req  *v1.SearchAssetsRequest
		want string
	}{
		{&v1.SearchAssetsRequest{Tags: []string{"e2e"}}, first + "," + second},
		{&v1.SearchAssetsRequest{Tags: []string{"demo"}, State: v1.AssetState_ASSET_STATE_READY}, first},
		{&v1.SearchAssetsRequest{Search: "second"}, second},
		{&v1.SearchAssetsRequest{Meta: map[string]string{"lang": "en"}, Limit: 1}, first},
	} {
		resp, err := cat.SearchAssets(ctx, q.req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range resp.GetAssets() {
			got = append(got, x.GetId())
		}
		if strings.Join(got, ",") != q.want {
			t.Errorf("%v: got %v, want %s", q.req, got, q.want)
		}
	}
}
