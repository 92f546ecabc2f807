package smooth

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/internal/manifest"
	"github.com/vodfleet/vodfleet/internal/smooth/smoothtest"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// asset is a packaged asset on disk (see smoothtest.Package), built once
// for the package's tests.
type asset struct {
	root   string
	mpd    []byte
	tracks []*vodfleetv1.TrackOutput
}

var (
	shared asset
	mu     sync.Mutex
)

func packaged(t *testing.T) asset {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared.root == "" {
		root, err := os.MkdirTemp("", "smooth-test-")
		if err != nil {
			t.Fatal(err)
		}
		tracks := smoothtest.Package(t, root)
		mpd, err := os.ReadFile(filepath.Join(root, smoothtest.MPDName))
		if err != nil {
			t.Fatal(err)
		}
		shared = asset{root: root, mpd: mpd, tracks: tracks}
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.root != "" {
		os.RemoveAll(shared.root)
	}
	os.Exit(code)
}

func (a asset) load(p string) ([]byte, error) { return os.ReadFile(filepath.Join(a.root, p)) }

func (a asset) presentation(t *testing.T) *Presentation {
	t.Helper()
	p, err := NewPresentation(a.mpd, a.load)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPresentationFromPackagedAsset(t *testing.T) {
	a := packaged(t)
	p := a.presentation(t)
	if len(p.Streams) != 2 || p.Streams[0].Name != "video" || p.Streams[1].Name != "audio" {
		t.Fatalf("streams %+v", p.Streams)
	}
	video, audio := p.Streams[0], p.Streams[1]
	if len(video.Levels) != 2 || video.Levels[0].Bitrate != 400_000 || video.Levels[1].Bitrate != 150_000 {
		t.Fatalf("video levels %+v %+v", video.Levels[0], video.Levels[1])
	}
	for _, l := range video.Levels {
		tr := l.Track
		if tr.FourCC != "AVC1" || !strings.HasPrefix(tr.CodecPrivateData, "0000000167") || !strings.Contains(tr.CodecPrivateData, "0000000168") {
			t.Errorf("video level %d: %+v", l.Bitrate, tr)
		}
		want := map[int64][2]int{400_000: {320, 180}, 150_000: {160, 90}}[l.Bitrate]
		if tr.Width != want[0] || tr.Height != want[1] {
			t.Errorf("level %d is %dx%d, want %v", l.Bitrate, tr.Width, tr.Height, want)
		}
	}
	// The SPS profile byte follows the NAL header: high (100) and baseline (66).
	if cpd := video.Levels[0].Track.CodecPrivateData; cpd[10:12] != "64" {
		t.Errorf("high profile SPS starts %s", cpd[:16])
	}
	if cpd := video.Levels[1].Track.CodecPrivateData; cpd[10:12] != "42" {
		t.Errorf("baseline SPS starts %s", cpd[:16])
	}
	at := audio.Levels[0].Track
	// AudioSpecificConfig: 5 bits object type (2, LC), 4 bits frequency
	// index (3, 48 kHz), 4 bits channel configuration (2), 3 zero bits.
	asc := uint16(2)<<11 | uint16(3)<<7 | uint16(2)<<3
	// ffmpeg appends the backward-compatible SBR sync extension (0x2B7).
	if at.FourCC != "AACL" || at.SampleRate != 48000 || at.Channels != 2 || !strings.HasPrefix(at.CodecPrivateData, strings.ToUpper(strconv.FormatUint(uint64(asc), 16))) {
		t.Errorf("audio track %+v, want ASC %04X", at, asc)
	}
	if audio.Timescale != 48000 || video.Timescale == 0 || video.Timescale == 90000 {
		// The MPD's video timescale is 90 kHz; the media's is ffmpeg's.
		t.Errorf("timescales video %d audio %d", video.Timescale, audio.Timescale)
	}
	for _, st := range p.Streams {
		var next uint64
		for i, c := range st.Chunks {
			if c.T != next || c.D == 0 {
				t.Fatalf("%s chunk %d %+v, want t=%d", st.Name, i, c, next)
			}
			next = c.T + c.D
		}
		if got := float64(next) / float64(st.Timescale); got < 4.9 || got > 5.1 {
			t.Errorf("%s lasts %.3f s, want 5", st.Name, got)
		}
	}
}

// TestFragmentsMatchManifest rewrites every stored segment and checks the
// Smooth fragment against the manifest: tfxd time and duration equal the
// chunk's t and d exactly, the moof holds only what MS-SSTR defines, and
// the trun data offset points at the unchanged sample bytes.
func TestFragmentsMatchManifest(t *testing.T) {
	a := packaged(t)
	p := a.presentation(t)
	for _, st := range p.Streams {
		for _, l := range st.Levels {
			for i, c := range st.Chunks {
				path, level, err := p.Segment(st.Name, l.Bitrate, c.T)
				if err != nil || level != l {
					t.Fatalf("%s %d chunk %d: %v", st.Name, l.Bitrate, i, err)
				}
				seg, err := a.load(path)
				if err != nil {
					t.Fatal(err)
				}
				frag, info, err := Fragment(seg, l.Track.DefaultDuration)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if info.Time != c.T || info.Duration != c.D {
					t.Errorf("%s: fragment t=%d d=%d, manifest t=%d d=%d", path, info.Time, info.Duration, c.T, c.D)
				}
				checkFragment(t, path, seg, frag, info)
			}
		}
	}
}

// checkFragment parses a rewritten fragment independently of Fragment.
func checkFragment(t *testing.T, name string, seg, frag []byte, info FragmentInfo) {
	t.Helper()
	top, err := boxes(frag)
	if err != nil || len(top) != 2 || top[0].typ != "moof" || top[1].typ != "mdat" {
		t.Fatalf("%s: top-level boxes %v (%v)", name, types(top), err)
	}
	orig, _ := boxes(seg)
	var origMdat []byte
	for _, b := range orig {
		if b.typ == "mdat" {
			origMdat = b.raw
		}
	}
	if !bytes.Equal(top[1].raw, origMdat) {
		t.Fatalf("%s: mdat changed", name)
	}
	moof, _ := boxes(top[0].payload)
	if got := strings.Join(types(moof), ","); got != "mfhd,traf" {
		t.Fatalf("%s: moof holds %s", name, got)
	}
	traf, _ := boxes(moof[1].payload)
	got := strings.Join(types(traf), ",")
	if got != "tfhd,trun,uuid" && got != "tfhd,trun,sdtp,uuid" {
		t.Fatalf("%s: traf holds %s", name, got)
	}
	x := traf[len(traf)-1].payload
	if len(x) != 36 || !bytes.Equal(x[:16], tfxdUUID[:]) || x[16] != 1 ||
		binary.BigEndian.Uint64(x[20:]) != info.Time || binary.BigEndian.Uint64(x[28:]) != info.Duration {
		t.Fatalf("%s: tfxd %x", name, x)
	}
	trun := traf[1].payload
	if binary.BigEndian.Uint32(trun)&trunDataOffset == 0 {
		t.Fatalf("%s: trun without data offset", name)
	}
	// ffmpeg's samples start right after the mdat header.
	if off := binary.BigEndian.Uint32(trun[8:]); int(off) != len(top[0].raw)+8 {
		t.Fatalf("%s: data offset %d, moof is %d bytes", name, off, len(top[0].raw))
	}
}

func types(bs []box) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.typ)
	}
	return out
}

func TestManifestXML(t *testing.T) {
	a := packaged(t)
	p := a.presentation(t)
	body, err := p.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var doc ssmXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if doc.MajorVersion != 2 || doc.TimeScale != ManifestTimeScale || doc.Duration != 5*ManifestTimeScale || len(doc.Streams) != 2 {
		t.Fatalf("manifest header %+v", doc)
	}
	for i, x := range doc.Streams {
		st := p.Streams[i]
		if x.Type != st.Type || x.TimeScale != st.Timescale || x.Chunks != len(st.Chunks) || len(x.ChunkList) != len(st.Chunks) ||
			x.URL != "QualityLevels({bitrate})/Fragments("+st.Name+"={start time})" || x.QualityLevels != len(x.Levels) {
			t.Errorf("stream %d: %+v", i, x)
		}
		for j, c := range x.ChunkList {
			if c.T != st.Chunks[j].T || c.D != st.Chunks[j].D {
				t.Errorf("stream %d chunk %d: %+v", i, j, c)
			}
		}
	}
	v, au := doc.Streams[0], doc.Streams[1]
	if v.MaxWidth != 320 || v.MaxHeight != 180 || v.Levels[0].FourCC != "AVC1" || v.Levels[0].MaxWidth != 320 || v.Levels[1].MaxHeight != 90 {
		t.Errorf("video stream %+v", v)
	}
	if q := au.Levels[0]; q.FourCC != "AACL" || q.SamplingRate != 48000 || q.Channels != 2 || q.BitsPerSample != 16 ||
		q.PacketSize != 4 || q.AudioTag != 255 || q.CodecPrivateData == "" {
		t.Errorf("audio level %+v", q)
	}
}

func TestSegmentLookupMisses(t *testing.T) {
	p := packaged(t).presentation(t)
	v := p.Stream("video")
	for _, c := range []struct {
		stream  string
		bitrate int64
		t       uint64
	}{
		{"video", v.Levels[0].Bitrate, v.Chunks[1].T + 1},
		{"video", v.Levels[0].Bitrate + 7, 0},
		{"text", v.Levels[0].Bitrate, 0},
		{"video", v.Levels[0].Bitrate, v.Chunks[len(v.Chunks)-1].T + v.Chunks[len(v.Chunks)-1].D},
	} {
		if _, _, err := p.Segment(c.stream, c.bitrate, c.t); !errors.Is(err, ErrNoFragment) {
			t.Errorf("%+v: %v, want ErrNoFragment", c, err)
		}
	}
}

// TestMalformedInputsFailCleanly cuts real segments, init segments and
// the MPD short and garbles them: every call returns its sentinel error,
// none panics.
func TestMalformedInputsFailCleanly(t *testing.T) {
	a := packaged(t)
	p := a.presentation(t)
	l := p.Streams[0].Levels[0]
	seg, err := a.load(l.segments[0])
	if err != nil {
		t.Fatal(err)
	}
	init, err := a.load(l.Init)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(seg); n += max(1, len(seg)/200) {
		if _, _, err := Fragment(seg[:n], 0); !errors.Is(err, ErrBadSegment) {
			t.Fatalf("segment cut at %d: %v", n, err)
		}
	}
	for n := 0; n < len(init); n += 7 {
		if _, err := ParseInit(init[:n]); !errors.Is(err, ErrBadInit) {
			t.Fatalf("init cut at %d: %v", n, err)
		}
	}
	// Flip bytes inside the moof: errors or a fragment, never a panic.
	for i := 8; i < 400 && i < len(seg); i++ {
		b := bytes.Clone(seg)
		b[i] ^= 0xff
		_, _, _ = Fragment(b, 0)
	}
	for _, bad := range []string{"", "<MPD/>", "not xml",
		strings.Replace(string(a.mpd), `media="`, `media="../../`, 1),
		strings.Replace(string(a.mpd), ` d="`, ` d="-`, 1)} {
		if _, err := NewPresentation([]byte(bad), a.load); !errors.Is(err, ErrBadMPD) {
			t.Errorf("mpd %.40q: %v, want ErrBadMPD", bad, err)
		}
	}
}

// TestSeveralAudioTracks: each audio AdaptationSet of the MPD (one per
// language) becomes its own StreamIndex with its own fragment URL name.
func TestSeveralAudioTracks(t *testing.T) {
	a := packaged(t)
	var tracks []*vodfleetv1.TrackOutput
	for _, tr := range a.tracks {
		if tr.GetWidth() > 0 {
			tracks = append(tracks, tr)
			continue
		}
		for _, lang := range []string{"eng", "fra"} {
			c := proto.Clone(tr).(*vodfleetv1.TrackOutput)
			c.Language = lang
			tracks = append(tracks, c)
		}
	}
	mpd, err := manifest.DASH(tracks, smoothtest.Seconds)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPresentation([]byte(mpd), a.load)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Streams) != 3 {
		t.Fatalf("%d streams", len(p.Streams))
	}
	for i, want := range []struct{ name, lang string }{{"video", ""}, {"audio", "en"}, {"audio2", "fr"}} {
		if st := p.Streams[i]; st.Name != want.name || st.Language != want.lang {
			t.Errorf("stream %d: %s %q, want %s %q", i, st.Name, st.Language, want.name, want.lang)
		}
	}
	au := p.Stream("audio2")
	if _, _, err := p.Segment("audio2", au.Levels[0].Bitrate, au.Chunks[1].T); err != nil {
		t.Error(err)
	}
	body, err := p.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`Url="QualityLevels({bitrate})/Fragments(audio2={start time})"`)) {
		t.Errorf("no audio2 fragment template in\n%s", body)
	}
}
