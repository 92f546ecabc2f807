package hds

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// mkbox wraps body in a box of type typ.
func mkbox(typ string, body ...[]byte) []byte {
	n := 8
	for _, b := range body {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// abstBox builds an abst with the given runs, the way the F4V spec lays it
// out.
func abstBox(timescale uint32, now uint64, segs []SegmentRun, frags []FragmentRun) []byte {
	asrt := [][]byte{u32(0), {0}, u32(uint32(len(segs)))}
	for _, s := range segs {
		asrt = append(asrt, u32(s.FirstSegment), u32(s.FragmentsPerSegment))
	}
	afrt := [][]byte{u32(0), u32(timescale), {0}, u32(uint32(len(frags)))}
	for _, f := range frags {
		afrt = append(afrt, u32(f.FirstFragment), u64(f.Timestamp), u32(f.Duration))
		if f.Duration == 0 {
			afrt = append(afrt, []byte{f.Discontinuity})
		}
	}
	return mkbox("abst",
		u32(0), u32(7), []byte{0}, u32(timescale), u64(now), u64(0),
		[]byte("movie\x00"), []byte{1}, []byte("srv\x00"), []byte{0}, []byte{0}, []byte{0},
		[]byte{1}, mkbox("asrt", asrt...),
		[]byte{1}, mkbox("afrt", afrt...))
}

func TestParseBootstrapRuns(t *testing.T) {
	// Two segments of 3 fragments; fragments 1-4 last 4 s, 5-6 last 2 s.
	data := abstBox(1000, 20000,
		[]SegmentRun{{1, 3}},
		[]FragmentRun{{FirstFragment: 1, Timestamp: 0, Duration: 4000}, {FirstFragment: 5, Timestamp: 16000, Duration: 2000}})
	// Segment run {1,3} alone covers one segment: 3 fragments.
	b, err := ParseBootstrap(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 7 || b.Live || b.Timescale != 1000 || b.Duration() != 20 {
		t.Fatalf("bootstrap %+v", b)
	}
	frags, err := b.Fragments()
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 3 || frags[2] != (Fragment{Segment: 1, Number: 3, Start: 8, Duration: 4}) {
		t.Fatalf("fragments %+v", frags)
	}

	// Segments 1 and 2 (3 fragments each) then segment 3 of one fragment.
	data = abstBox(1000, 22000,
		[]SegmentRun{{1, 3}, {3, 1}},
		[]FragmentRun{{FirstFragment: 1, Timestamp: 0, Duration: 4000}, {FirstFragment: 5, Timestamp: 16000, Duration: 2000}})
	b, err = ParseBootstrap(data)
	if err != nil {
		t.Fatal(err)
	}
	frags, err = b.Fragments()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	total := 0.0
	for _, f := range frags {
		got = append(got, FragmentURL("s", f.Segment, f.Number))
		total += f.Duration
	}
	want := "sSeg1-Frag1 sSeg1-Frag2 sSeg1-Frag3 sSeg2-Frag4 sSeg2-Frag5 sSeg2-Frag6 sSeg3-Frag7"
	if strings.Join(got, " ") != want || total != 4*4+3*2 || frags[4].Start != 16 {
		t.Fatalf("fragments %v (total %v), want %s", got, total, want)
	}

	// An end-of-presentation entry stops the list.
	data = abstBox(1000, 8000, []SegmentRun{{1, 10}},
		[]FragmentRun{{FirstFragment: 1, Duration: 4000}, {FirstFragment: 3, Duration: 0, Discontinuity: 0}})
	b, _ = ParseBootstrap(data)
	if frags, err := b.Fragments(); err != nil || len(frags) != 2 {
		t.Fatalf("fragments %+v %v", frags, err)
	}
}

func TestParseBootstrapErrors(t *testing.T) {
	good := abstBox(1000, 4000, []SegmentRun{{1, 1}}, []FragmentRun{{FirstFragment: 1, Duration: 4000}})
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not abst":  mkbox("moov", good[8:]),
		"truncated": append(binary.BigEndian.AppendUint32(nil, uint32(len(good)-10)), good[4:len(good)-10]...),
		"no runs":   abstBox(1000, 0, nil, nil),
		"timescale": abstBox(0, 0, []SegmentRun{{1, 1}}, []FragmentRun{{FirstFragment: 1, Duration: 4000}}),
		"oversize":  append(u32(uint32(len(good)+1)), good[4:]...),
	} {
		if _, err := ParseBootstrap(data); !errors.Is(err, ErrBadBootstrap) {
			t.Errorf("%s: err %v, want ErrBadBootstrap", name, err)
		}
	}
	// A numbering discontinuity leaves fragment 2 without timing.
	b, err := ParseBootstrap(abstBox(1000, 0, []SegmentRun{{1, 2}},
		[]FragmentRun{{FirstFragment: 1, Duration: 4000}, {FirstFragment: 2, Duration: 0, Discontinuity: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Fragments(); !errors.Is(err, ErrBadBootstrap) {
		t.Fatalf("err %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{ID: "a", StreamType: "recorded", DeliveryType: "streaming", Duration: 6.5,
		Bootstraps: []BootstrapInfo{{Profile: "named", ID: "b0", URL: "360p/stream0.abst"}},
		Media:      []Media{{Bitrate: 900, URL: "360p/stream0", BootstrapInfoID: "b0", Width: 640, Height: 360, Metadata: "AgAK"}}}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<manifest xmlns="http://ns.adobe.com/f4m/1.0">`) {
		t.Fatalf("manifest:\n%s", data)
	}
	got, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Media[0] != m.Media[0] || got.Bootstrap(got.Media[0]).URL != "360p/stream0.abst" || got.Duration != 6.5 {
		t.Fatalf("parsed %+v", got)
	}
	for name, doc := range map[string]string{
		"not xml":      "<manifest",
		"no media":     `<manifest xmlns="http://ns.adobe.com/f4m/1.0"><id>x</id></manifest>`,
		"no bootstrap": `<manifest><media url="s" bootstrapInfoId="b"/></manifest>`,
		"empty boot":   `<manifest><bootstrapInfo id="b"/><media url="s" bootstrapInfoId="b"/></manifest>`,
		"other ns":     `<manifest xmlns="urn:x"><bootstrapInfo id="b" url="u"/><media url="s" bootstrapInfoId="b"/></manifest>`,
	} {
		if _, err := ParseManifest([]byte(doc)); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: err %v, want ErrBadManifest", name, err)
		}
	}
	// Inline bootstraps decode.
	boot := abstBox(1000, 4000, []SegmentRun{{1, 1}}, []FragmentRun{{FirstFragment: 1, Duration: 4000}})
	doc := `<manifest><bootstrapInfo profile="named">` + base64.StdEncoding.EncodeToString(boot) + `</bootstrapInfo><media url="s"/></manifest>`
	im, err := ParseManifest([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if data, err := im.Bootstrap(im.Media[0]).InlineBootstrap(); err != nil || string(data) != string(boot) {
		t.Fatalf("inline bootstrap %v", err)
	}
}

// flvTag builds an FLV tag with its PreviousTagSize.
func flvTag(typ byte, ts uint32, body []byte) []byte {
	n := len(body)
	t := []byte{typ, byte(n >> 16), byte(n >> 8), byte(n), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
	t = append(t, body...)
	return append(t, u32(uint32(11+n))...)
}

func TestParseFragment(t *testing.T) {
	tags := append(flvTag(9, 4000, []byte{0x17, 0}), flvTag(8, 4000, []byte{0xaf, 0})...)
	tags = append(tags, flvTag(9, 4000, []byte{0x17, 1})...)
	tags = append(tags, flvTag(8, 4001, []byte{0xaf, 1})...)
	tags = append(tags, flvTag(9, 4040, []byte{0x27, 1})...)
	info, err := ParseFragment(mkbox("mdat", tags))
	if err != nil {
		t.Fatal(err)
	}
	if *info != (FragmentInfo{Video: 3, Audio: 2, Config: 2, VideoKeyframes: 1, FirstVideoKeyframe: true, First: 4000, Last: 4040}) {
		t.Fatalf("info %+v", info)
	}
	bad := append([]byte(nil), tags...)
	bad[len(flvTag(9, 4000, []byte{0x17, 0}))-1]++ // PreviousTagSize off by one
	for name, data := range map[string][]byte{
		"no mdat":    mkbox("free"),
		"bad prev":   mkbox("mdat", bad),
		"other box":  mkbox("moov", tags),
		"empty mdat": mkbox("mdat"),
		"bad type":   mkbox("mdat", flvTag(7, 0, []byte{1})),
		"truncated":  mkbox("mdat", tags[:len(tags)-3]),
	} {
		if _, err := ParseFragment(data); !errors.Is(err, ErrBadFragment) {
			t.Errorf("%s: err %v, want ErrBadFragment", name, err)
		}
	}
}

// TestFFmpegOutput parses what this machine's ffmpeg hds muxer writes for
// a 5 s clip cut every 2 s: one media, its bootstrap naming three
// fragments whose durations add up to the clip, each an mdat of FLV tags
// starting on a keyframe.
func TestFFmpegOutput(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "hds")
	cmd := exec.Command(bin, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25",
		"-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast",
		"-g", "50", "-b:v", "200k", "-c:a", "aac", "-b:a", "64k", "-min_frag_duration", "2000000", "-f", "hds", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	data, err := os.ReadFile(filepath.Join(out, "index.f4m"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(m.Media) != 1 || m.Media[0].Bitrate <= 0 || m.Media[0].Metadata == "" || m.StreamType != "recorded" {
		t.Fatalf("manifest %+v", m)
	}
	bi := m.Bootstrap(m.Media[0])
	boot, err := os.ReadFile(filepath.Join(out, bi.URL))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBootstrap(boot)
	if err != nil {
		t.Fatal(err)
	}
	frags, err := b.Fragments()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range frags {
		total += f.Duration
		data, err := os.ReadFile(filepath.Join(out, FragmentURL(m.Media[0].URL, f.Segment, f.Number)))
		if err != nil {
			t.Fatal(err)
		}
		info, err := ParseFragment(data)
		if err != nil {
			t.Fatalf("fragment %d: %v", f.Number, err)
		}
		if info.Video == 0 || info.Audio == 0 || !info.FirstVideoKeyframe {
			t.Fatalf("fragment %d: %+v", f.Number, info)
		}
	}
	if len(frags) != 3 || math.Abs(total-5) > 0.2 || math.Abs(b.Duration()-total) > 0.001 {
		t.Fatalf("%d fragments, %.3f s (bootstrap %.3f s)", len(frags), total, b.Duration())
	}
}
