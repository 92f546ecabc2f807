package mediatype

import "testing"

func TestHDSTypes(t *testing.T) {
	for name, want := range map[string]string{
		"a/hds/index.f4m":              "application/f4m+xml",
		"a/hds/360p/stream0.abst":      "application/octet-stream",
		"a/hds/360p/stream0Seg1-Frag1": F4F,
		"stream0Seg12-Frag345":         F4F,
		"a/hds/360p/stream0Seg1-Frag":  Default,
		"a/hds/360p/stream0-Frag1":     Default,
		"a/hds/360p/Seg-Frag1":         Default,
		"a/Seg1-Frag1x":                Default,
		"a/master.m3u8":                "application/vnd.apple.mpegurl",
	} {
		if got := Of(name); got != want {
			t.Errorf("Of(%q) = %q, want %q", name, got, want)
		}
	}
	if !IsPlaylist("hds/index.F4M") || IsPlaylist("hds/360p/stream0Seg1-Frag1") {
		t.Error("IsPlaylist: the f4m is a manifest, fragments are not")
	}
}
