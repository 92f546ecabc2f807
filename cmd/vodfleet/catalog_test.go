package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestCatalogCLI drives preset, submit --title/--tag/--meta/--preset,
// asset show/set, catalog and dest against a dev cluster.
func TestCatalogCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and encodes; skipped with -short")
	}
	c := startCluster(t)
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		code, out, stderr := cli(t, c, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, out, stderr := cli(t, c, args...)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("%v: exit %d, want an error with %q\n%s%s", args, code, want, out, stderr)
		}
	}
	show := func(id string) *v1.Asset {
		t.Helper()
		a := &v1.Asset{}
		if err := protojson.Unmarshal([]byte(must("asset", "show", id, "--json")), a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	// The preset file of the README.
	preset := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(preset, []byte("name: tiny\ndescription: small web rendition\nencode:\n  renditions: [{height: 180, name: small, videoBitrate: 200000}]\n  outputs: {mp4: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must("preset", "set", preset); !strings.Contains(out, "version 1") {
		t.Fatalf("preset set: %s", out)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name":"bad","encode":{"renditions":[{"height":1}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fails("preset.encode", "preset", "set", bad)
	if out := must("preset", "list"); !strings.Contains(out, "tiny") || !strings.Contains(out, "180p") {
		t.Fatalf("preset list: %s", out)
	}

	clip := testmedia.Make(t, dir, testmedia.Clip{Size: "320x180", Seconds: 3})
	fails("tags[0]", "submit", "--tag", "no spaces", clip)
	j := decodeJob(t, must("submit", "--wait", "--json", "--title", "CLI clip", "--tag", "cli", "--tag", "Demo",
		"--meta", "lang=en", "--preset", "tiny", clip))
	a := show(j.JobID)
	if a.GetState() != v1.AssetState_ASSET_STATE_READY || a.GetTitle() != "CLI clip" || strings.Join(a.GetTags(), ",") != "cli,demo" ||
		a.GetMeta()["lang"] != "en" || a.GetPreset() != "tiny" || a.GetPresetVersion() != 1 ||
		len(a.GetRenditions()) != 1 || a.GetRenditions()[0].GetName() != "small" || len(a.GetOutputs().GetMp4()) != 1 {
		t.Fatalf("record: %v", a)
	}
	if out := must("asset", "show", j.JobID); !strings.Contains(out, "ready") || !strings.Contains(out, "rendition small") {
		t.Fatalf("asset show: %s", out)
	}

	must("asset", "set", j.JobID, "--title", "Renamed clip", "--tag", "other", "--meta", "lang=")
	a = show(j.JobID)
	if a.GetTitle() != "Renamed clip" || strings.Join(a.GetTags(), ",") != "other" || len(a.GetMeta()) != 0 {
		t.Fatalf("after set: %v", a)
	}
	fails("meta", "asset", "set", j.JobID, "--meta", "Bad Key=x")
	if out := must("assets", "--tag", "other", "--state", "ready"); !strings.Contains(out, j.JobID) || !strings.Contains(out, "Renamed clip") {
		t.Fatalf("assets --tag other: %s", out)
	}
	if out := must("assets", "--tag", "cli"); strings.Contains(out, j.JobID) {
		t.Fatalf("assets --tag cli still lists the asset: %s", out)
	}
	if out := must("assets", "--meta", "lang=en"); strings.Contains(out, j.JobID) {
		t.Fatalf("assets --meta lang=en lists the asset whose field was removed: %s", out)
	}
	// catalog is the alias of the same listing.
	if out := must("catalog", "--tag", "other"); !strings.Contains(out, j.JobID) {
		t.Fatalf("catalog --tag other: %s", out)
	}
	resp := &v1.SearchAssetsResponse{}
	if err := protojson.Unmarshal([]byte(must("assets", "--search", "renamed", "--json")), resp); err != nil ||
		len(resp.GetAssets()) != 1 || resp.GetAssets()[0].GetId() != j.JobID {
		t.Fatalf("catalog --search: %v %v", resp, err)
	}
	fails("--state", "assets", "--state", "bogus")
	fails("--state", "catalog", "--state", "bogus")

	must("dest", "add", "cdn", "s3://bucket/vod", "--option", "region=eu")
	fails("destination.url", "dest", "add", "bad", "sftp://user:hunter2@host/dir")
	if out := must("dest", "list"); !strings.Contains(out, "cdn") || !strings.Contains(out, "region=eu") || strings.Contains(out, "bad") {
		t.Fatalf("dest list: %s", out)
	}
	must("dest", "delete", "cdn")
	fails("not found", "dest", "delete", "cdn")
}
