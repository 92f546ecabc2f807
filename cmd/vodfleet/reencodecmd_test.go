package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/vodfleet/vodfleet/internal/testmedia"
)

func TestAddFlagParses(t *testing.T) {
	for in, want := range map[string]string{
		"720p":                           `name:"720p"`,
		"720p,codec=av1":                 `name:"720p" codec:VIDEO_CODEC_AV1`,
		"640x360@800":                    `width:640 height:360 video_bitrate:800000`,
		"640x360@800,codec=av1":          `name:"360p-av1" width:640 height:360 video_bitrate:800000 codec:VIDEO_CODEC_AV1`,
		"640x360@800,name=sd,codec=hevc": `name:"sd" width:640 height:360 video_bitrate:800000 codec:VIDEO_CODEC_HEVC`,
	} {
		var a addFlag
		if err := a.Set(in); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got := strings.Join(strings.Fields(prototext.MarshalOptions{}.Format(a.list[0])), " ")
		if got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "height=3", "640x360@0", "720p,name=x", "720p,codec=vp9", "720p,fps=3", "720p,codec"} {
		var a addFlag
		if err := a.Set(bad); err == nil {
			t.Errorf("%q accepted: %v", bad, a.list)
		}
	}
}

// TestReencodeCommand adds a rendition to a published asset with
// `vodfleet reencode --wait --json` and checks the bad-input exits.
func TestReencodeCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and encodes; skipped with -short")
	}
	c := startCluster(t)
	clip := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 2})
	code, out, stderr := cli(t, c, "submit", "--wait", "--json", clip)
	if code != 0 {
		t.Fatalf("submit exit %d: %s %s", code, out, stderr)
	}
	asset := decodeJob(t, out).JobID

	code, out, stderr = cli(t, c, "reencode", "--wait", "--json", asset, "--add", "160x90@100")
	if code != 0 {
		t.Fatalf("reencode exit %d: %s %s", code, out, stderr)
	}
	j := decodeJob(t, out)
	if j.State != "succeeded" || j.JobID == asset || !strings.Contains(j.HLSURL, "/v/"+asset+"/master.m3u8") {
		t.Fatalf("reencode job %+v", j)
	}
	ran := map[string]bool{}
	for _, tk := range j.Tasks {
		if tk.Attempt > 0 {
			ran[tk.Name] = true
		}
	}
	if len(ran) != 2 || !ran["video-90p"] || !ran["package"] {
		t.Fatalf("reencode ran %v, want video-90p and package", ran)
	}

	if code, out, _ := cli(t, c, "status", j.JobID); code != 0 || !strings.Contains(out, "reencode: asset "+asset+" (from job "+asset+"): encodes 90p") {
		t.Fatalf("status of the reencode job: exit %d\n%s", code, out)
	}

	for _, c2 := range []struct {
		args []string
		want string
	}{
		{[]string{"reencode", asset, "--replace", "nope"}, "InvalidArgument"},
		{[]string{"reencode", "00000000000000000000", "--add", "360p"}, "NotFound"},
		{[]string{"reencode", asset}, "usage: vodfleet reencode"},
		{[]string{"reencode", asset, "--add", "x=1"}, "rung name"},
	} {
		if code, _, stderr := cli(t, c, c2.args...); code == 0 || !strings.Contains(stderr, c2.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c2.args, code, stderr, c2.want)
		}
	}
}
