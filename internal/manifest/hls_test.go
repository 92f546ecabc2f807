package manifest

import (
	"math"
	"strconv"
	"strings"
	"testing"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestHLSMedia(t *testing.T) {
	tr := &vodfleetv1.TrackOutput{Dir: "v720p", InitName: "init.mp4", Width: 1280,
		Segments: []*vodfleetv1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 4.004}, {Name: "seg_00002.m4s", DurationSeconds: 4.004}, {Name: "seg_00003.m4s", DurationSeconds: 2.002}}}
	want := `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.004000,
seg_00001.m4s
#EXTINF:4.004000,
seg_00002.m4s
#EXTINF:2.002000,
seg_00003.m4s
#EXT-X-ENDLIST
`
	if got := HLSMedia(tr); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Whole-second segments keep their target; float noise does not bump it.
	tr.Segments = []*vodfleetv1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 0.1 + 0.2 + 3.7}}
	if got := HLSMedia(tr); !strings.Contains(got, "#EXT-X-TARGETDURATION:4\n") {
		t.Errorf("target duration:\n%s", got)
	}
}

// attrs parses an HLS attribute list (values keep their quotes removed).
func attrs(t *testing.T, line string) map[string]string {
	t.Helper()
	_, list, _ := strings.Cut(line, ":")
	out := map[string]string{}
	for list != "" {
		var kv string
		quoted := false
		i := 0
		for ; i < len(list); i++ {
			if list[i] == '"' {
				quoted = !quoted
			}
			if list[i] == ',' && !quoted {
				break
			}
		}
		kv, list = list[:i], strings.TrimPrefix(list[i:], ",")
		k, v, _ := strings.Cut(kv, "=")
		out[k] = strings.Trim(v, `"`)
	}
	return out
}

func TestHLSMaster(t *testing.T) {
	got := HLSMaster(ladder(), "media.m3u8")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if lines[0] != "#EXTM3U" || lines[1] != "#EXT-X-VERSION:7" {
		t.Fatalf("header:\n%s", got)
	}
	var media []map[string]string
	type variant struct {
		attrs map[string]string
		uri   string
	}
	var variants []variant
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA:"):
			media = append(media, attrs(t, l))
		case strings.HasPrefix(l, "#EXT-X-STREAM-INF:"):
			variants = append(variants, variant{attrs(t, l), lines[i+1]})
		}
	}
	if len(media) != 1 || media[0]["TYPE"] != "AUDIO" || media[0]["GROUP-ID"] != "audio" ||
		media[0]["URI"] != "audio/media.m3u8" || media[0]["DEFAULT"] != "YES" || media[0]["CHANNELS"] != "2" {
		t.Errorf("audio media: %v", media)
	}
	wantOrder := []string{"v1080p/media.m3u8", "v720p/media.m3u8", "v480p/media.m3u8"}
	if len(variants) != len(wantOrder) {
		t.Fatalf("%d variants:\n%s", len(variants), got)
	}
	prev := math.MaxInt
	for i, v := range variants {
		if v.uri != wantOrder[i] {
			t.Errorf("variant %d uri %q, want %q", i, v.uri, wantOrder[i])
		}
		bw, _ := strconv.Atoi(v.attrs["BANDWIDTH"])
		if bw > prev {
			t.Errorf("variants not sorted by bandwidth: %d after %d", bw, prev)
		}
		prev = bw
		if v.attrs["AUDIO"] != "audio" || !strings.HasSuffix(v.attrs["CODECS"], ",mp4a.40.2") {
			t.Errorf("variant %d: %v", i, v.attrs)
		}
	}
	top := variants[0].attrs
	if top["BANDWIDTH"] != "5130000" || top["AVERAGE-BANDWIDTH"] != "4628000" || top["RESOLUTION"] != "1920x1080" ||
		top["FRAME-RATE"] != "29.970" || top["CODECS"] != "avc1.640028,mp4a.40.2" {
		t.Errorf("top variant: %v", top)
	}
}

func TestHLSMasterVideoOnlyAndMeasuredBitrates(t *testing.T) {
	// No audio: no AUDIO attribute. No measured bitrates: derived from sizes.
	v := &vodfleetv1.TrackOutput{Dir: "v360p", InitName: "init.mp4", Codecs: "avc1.4d401e", Width: 640, Height: 360,
		Segments: []*vodfleetv1.Segment{{Name: "seg_00001.m4s", DurationSeconds: 2, Size: 100_000}, {Name: "seg_00002.m4s", DurationSeconds: 1, Size: 100_000}}}
	got := HLSMaster([]*vodfleetv1.TrackOutput{v}, "media.m3u8")
	if strings.Contains(got, "AUDIO=") || strings.Contains(got, "EXT-X-MEDIA:") {
		t.Errorf("audio in video-only master:\n%s", got)
	}
	if !strings.Contains(got, "BANDWIDTH=800000,AVERAGE-BANDWIDTH=533334,") || !strings.Contains(got, `CODECS="avc1.4d401e"`) {
		t.Errorf("derived bitrates:\n%s", got)
	}
}
