package main

import (
	"flag"
	"strings"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestHDSFlag: --hds turns the HDS output on over a job file that has it
// off; without the flag the file's value stands.
func TestHDSFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		file bool
		want bool
	}{
		{[]string{"--hds"}, false, true},
		{[]string{"--hds=false"}, true, false},
		{nil, true, true},
		{nil, false, false},
	} {
		fs := flag.NewFlagSet("submit", flag.ContinueOnError)
		var ef encodeFlags
		ef.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		req := &v1.SubmitJobRequest{Encode: &v1.EncodeOptions{Outputs: &v1.Outputs{Hds: tc.file}}}
		if err := ef.apply(fs, req); err != nil {
			t.Fatal(err)
		}
		if got := req.GetEncode().GetOutputs().GetHds(); got != tc.want {
			t.Errorf("args %v over file hds=%v: hds=%v, want %v", tc.args, tc.file, got, tc.want)
		}
	}
}

// TestHDSURLShown: status, submit --wait, --json and asset show name the
// HDS manifest URL when the job made one, and say nothing of HDS otherwise.
func TestHDSURLShown(t *testing.T) {
	const u = "http://edge/v/a1/hds/index.f4m"
	j := &v1.Job{Id: "a1", AssetId: "a1", State: v1.JobState_JOB_STATE_SUCCEEDED,
		HlsMaster: "master.m3u8", HlsUrl: "http://edge/v/a1/master.m3u8", HdsManifest: "hds/index.f4m", HdsUrl: u}
	var detail, outcome, asset strings.Builder
	printJobDetail(&detail, j, nil)
	printOutcome(&outcome, j)
	printAsset(&asset, &v1.Asset{Id: "a1", Outputs: &v1.AssetOutputs{HdsManifest: "hds/index.f4m", HdsUrl: u}})
	for name, out := range map[string]string{"status": detail.String(), "outcome": outcome.String(), "asset": asset.String()} {
		if !strings.Contains(out, u) {
			t.Errorf("%s does not show the HDS URL:\n%s", name, out)
		}
	}
	if got := jobJSON(j, nil).HDSURL; got != u {
		t.Errorf("json hds_url %q", got)
	}
	j.HdsUrl, j.HdsManifest = "", ""
	detail.Reset()
	printJobDetail(&detail, j, nil)
	if strings.Contains(strings.ToLower(detail.String()), "hds") {
		t.Errorf("status of a job without HDS:\n%s", detail.String())
	}
}
