package ffmpeg

import (
	"errors"
	"math"
	"testing"
)

func TestParseMediaPlaylist(t *testing.T) {
	tests := []struct {
		fixture string
		durs    []float64
	}{
		// 10 s of 30000/1001 video in 4 s segments: 120 frames each.
		{"playlist_ntsc.m3u8", []float64{4.004, 4.004, 2.002}},
		// AAC at 48 kHz: 47 frames of 1024 samples per 1 s segment.
		{"playlist_audio.m3u8", []float64{1.002667, 1.002667, 1.002667, 0.042667}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			initName, segs, err := ParseMediaPlaylist(readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if initName != InitName {
				t.Errorf("init %q", initName)
			}
			if len(segs) != len(tt.durs) {
				t.Fatalf("%d segments, want %d", len(segs), len(tt.durs))
			}
			for i, s := range segs {
				if want := "seg_0000" + string(rune('1'+i)) + ".m4s"; s.GetName() != want {
					t.Errorf("segment %d name %q, want %q", i, s.GetName(), want)
				}
				if math.Abs(s.GetDurationSeconds()-tt.durs[i]) > 1e-9 {
					t.Errorf("segment %d duration %v", i, s.GetDurationSeconds())
				}
			}
		})
	}
}

func TestParseMediaPlaylistErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"no header":     "#EXTINF:1,\na.m4s\n",
		"incomplete":    "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.0,\nseg_00001.m4s\n",
		"no map":        "#EXTM3U\n#EXTINF:1.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n",
		"no segments":   "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-ENDLIST\n",
		"no extinf":     "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\nseg_00001.m4s\n#EXT-X-ENDLIST\n",
		"bad extinf":    "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:abc,\nseg_00001.m4s\n#EXT-X-ENDLIST\n",
		"traversal":     "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\n../x.m4s\n#EXT-X-ENDLIST\n",
		"absolute init": "#EXTM3U\n#EXT-X-MAP:URI=\"/etc/passwd\"\n#EXTINF:1,\na.m4s\n#EXT-X-ENDLIST\n",
		"url":           "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\nhttp:x.m4s\n#EXTINF:1,\nhttp://h/x.m4s\n#EXT-X-ENDLIST\n",
	} {
		if _, _, err := ParseMediaPlaylist([]byte(in)); !errors.Is(err, ErrBadPlaylist) {
			t.Errorf("%s: err = %v, want ErrBadPlaylist", name, err)
		}
	}
	// CRLF line ends and extra tags are fine.
	in := "#EXTM3U\r\n#EXT-X-VERSION:7\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:2.5,title\r\nseg_00001.m4s\r\n#EXT-X-ENDLIST\r\n"
	if _, segs, err := ParseMediaPlaylist([]byte(in)); err != nil || len(segs) != 1 || segs[0].GetDurationSeconds() != 2.5 {
		t.Errorf("crlf: %v %v", segs, err)
	}
}
