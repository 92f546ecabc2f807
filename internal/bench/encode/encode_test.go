package main

import (
	"fmt"
	"testing"
)

func TestFitLadder(t *testing.T) {
	for _, tc := range []struct {
		size string
		want string
	}{
		{"1920x1080", "[{1080p 1920 1080} {720p 1280 720} {480p 854 480} {360p 640 360}]"},
		{"1280x720", "[{720p 1280 720} {480p 854 480} {360p 640 360}]"},
		{"320x180", "[{180p 320 180}]"},
	} {
		w, h, err := parseSize(tc.size)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := fitLadder("default", w, h)
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			n    string
			w, h int
		}
		for _, r := range rs {
			got = append(got, struct {
				n    string
				w, h int
			}{r.name, r.width, r.height})
		}
		if s := fmt.Sprint(got); s != tc.want {
			t.Errorf("%s: got %s, want %s", tc.size, s, tc.want)
		}
	}
}

func TestParseMedia(t *testing.T) {
	p, err := parseMedia([]byte("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.000000,\nseg_00001.m4s\n#EXTINF:2.5,\nseg_00002.m4s\n#EXT-X-ENDLIST\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.maps, p.segments, p.seconds) != "[init.mp4] [seg_00001.m4s seg_00002.m4s] 6.5" {
		t.Errorf("got %v %v %v", p.maps, p.segments, p.seconds)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "http://h/x", "a/../../x"} {
		if _, err := safeRel(bad); err == nil {
			t.Errorf("safeRel(%q) accepted", bad)
		}
	}
}

func TestComparableIgnoresBadSegmentsCommonToBothRuns(t *testing.T) {
	for _, tc := range []struct {
		chunked, unchunked []int
		want               bool
	}{
		{nil, nil, true},
		{[]int{1}, []int{1}, true}, // the start of every encode: not chunking's doing
		{[]int{1, 4}, []int{1}, false},
		{nil, []int{2}, false},
	} {
		if got := comparable(&quality{badSegments: tc.chunked}, &quality{badSegments: tc.unchunked}); got != tc.want {
			t.Errorf("comparable(%v, %v) = %v, want %v", tc.chunked, tc.unchunked, got, tc.want)
		}
	}
}
