package coordinator

import (
	"errors"
	"testing"
)

func TestSelectRenditionsNeverUpscales(t *testing.T) {
	cases := []struct {
		name          string
		w, h          int32
		want          []string
		wantW, wantH0 int32
	}{
		{"1080p source gets the whole ladder", 1920, 1080, []string{"1080p", "720p", "480p", "360p"}, 1920, 1080},
		{"720p source drops 1080p", 1280, 720, []string{"720p", "480p", "360p"}, 1280, 720},
		{"360p source gets only 360p", 640, 360, []string{"360p"}, 640, 360},
		{"between rungs", 1000, 562, []string{"480p", "360p"}, 854, 480},
		{"smaller than every rung keeps source size", 320, 180, []string{"180p"}, 320, 180},
		{"odd source size is rounded down to even", 321, 181, []string{"180p"}, 320, 180},
		{"4:3 keeps aspect", 960, 720, []string{"720p", "480p", "360p"}, 960, 720},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := selectRenditions("default", c.w, c.h)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range rs {
				names = append(names, r.GetName())
				if r.GetHeight() > c.h || r.GetWidth() > c.w {
					t.Errorf("%s upscales: %d > %d", r.GetName(), r.GetHeight(), c.h)
				}
				if r.GetWidth()%2 != 0 || r.GetHeight()%2 != 0 {
					t.Errorf("%s has odd size %dx%d", r.GetName(), r.GetWidth(), r.GetHeight())
				}
				if r.GetVideoBitrate() <= 0 || r.GetMaxBitrate() < r.GetVideoBitrate() {
					t.Errorf("%s bitrates %d/%d", r.GetName(), r.GetVideoBitrate(), r.GetMaxBitrate())
				}
			}
			if len(names) != len(c.want) {
				t.Fatalf("renditions %v, want %v", names, c.want)
			}
			for i := range names {
				if names[i] != c.want[i] {
					t.Fatalf("renditions %v, want %v", names, c.want)
				}
			}
			if rs[0].GetWidth() != c.wantW || rs[0].GetHeight() != c.wantH0 {
				t.Errorf("top rendition %dx%d, want %dx%d", rs[0].GetWidth(), rs[0].GetHeight(), c.wantW, c.wantH0)
			}
		})
	}
}

func TestSelectRenditionsErrors(t *testing.T) {
	if _, err := selectRenditions("nope", 1920, 1080); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown ladder: %v", err)
	}
	if _, err := selectRenditions("default", 0, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero size: %v", err)
	}
}

func TestOutputFrameRate(t *testing.T) {
	for in, want := range map[float64]float64{0: 25, -1: 25, 29.97: 29.97, 120: 60, 60: 60} {
		if got := outputFrameRate(in, 0); got != want {
			t.Errorf("outputFrameRate(%g) = %g, want %g", in, got, want)
		}
	}
}
