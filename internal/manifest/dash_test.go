package manifest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// The MPD as a player reads it.
type (
	parsedMPD struct {
		XMLName  xml.Name `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
		Profiles string   `xml:"profiles,attr"`
		Type     string   `xml:"type,attr"`
		Duration string   `xml:"mediaPresentationDuration,attr"`
		MinBuf   string   `xml:"minBufferTime,attr"`
		Sets     []struct {
			ContentType string `xml:"contentType,attr"`
			MimeType    string `xml:"mimeType,attr"`
			Aligned     bool   `xml:"segmentAlignment,attr"`
			Reps        []struct {
				ID         string `xml:"id,attr"`
				Bandwidth  int64  `xml:"bandwidth,attr"`
				Codecs     string `xml:"codecs,attr"`
				Width      int    `xml:"width,attr"`
				Height     int    `xml:"height,attr"`
				FrameRate  string `xml:"frameRate,attr"`
				SampleRate int    `xml:"audioSamplingRate,attr"`
				Channels   *struct {
					Value string `xml:"value,attr"`
				} `xml:"AudioChannelConfiguration"`
				Template struct {
					Timescale   int64  `xml:"timescale,attr"`
					Init        string `xml:"initialization,attr"`
					Media       string `xml:"media,attr"`
					StartNumber int64  `xml:"startNumber,attr"`
					S           []struct {
						T *int64 `xml:"t,attr"`
						D int64  `xml:"d,attr"`
						R int    `xml:"r,attr"`
					} `xml:"SegmentTimeline>S"`
				} `xml:"SegmentTemplate"`
			} `xml:"Representation"`
		} `xml:"Period>AdaptationSet"`
	}
	// expanded is one addressed segment: its URL and [start, end) in ticks.
	expanded struct {
		url        string
		start, end int64
	}
)

func parseMPD(t *testing.T, s string) parsedMPD {
	t.Helper()
	var m parsedMPD
	if err := xml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, s)
	}
	return m
}

var numberTmpl = regexp.MustCompile(`\$Number(%0(\d+)d)?\$`)

// expand lists the segments a player would request for a representation.
func expand(t *testing.T, tmpl struct {
	Timescale   int64  `xml:"timescale,attr"`
	Init        string `xml:"initialization,attr"`
	Media       string `xml:"media,attr"`
	StartNumber int64  `xml:"startNumber,attr"`
	S           []struct {
		T *int64 `xml:"t,attr"`
		D int64  `xml:"d,attr"`
		R int    `xml:"r,attr"`
	} `xml:"SegmentTimeline>S"`
}) []expanded {
	t.Helper()
	var out []expanded
	var now int64
	n := tmpl.StartNumber
	for _, s := range tmpl.S {
		if s.T != nil {
			now = *s.T
		}
		for i := 0; i <= s.R; i++ {
			url := numberTmpl.ReplaceAllStringFunc(tmpl.Media, func(m string) string {
				w := numberTmpl.FindStringSubmatch(m)[2]
				if w == "" {
					return strconv.FormatInt(n, 10)
				}
				width, _ := strconv.Atoi(w)
				return fmt.Sprintf("%0*d", width, n)
			})
			out = append(out, expanded{url, now, now + s.D})
			now += s.D
			n++
		}
	}
	return out
}

func TestDASH(t *testing.T) {
	tracks := ladder()
	s, err := DASH(tracks, 6)
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, s)
	if m.Type != "static" || m.Profiles != "urn:mpeg:dash:profile:isoff-live:2011" || m.Duration != "PT6.000S" || m.MinBuf == "" {
		t.Errorf("MPD attrs: %+v", m)
	}
	if len(m.Sets) != 2 || m.Sets[0].ContentType != "video" || m.Sets[0].MimeType != "video/mp4" ||
		m.Sets[1].MimeType != "audio/mp4" || !m.Sets[0].Aligned {
		t.Fatalf("adaptation sets: %+v", m.Sets)
	}
	video := m.Sets[0].Reps
	if len(video) != 3 || video[0].ID != "v1080p" || video[1].ID != "v720p" || video[2].ID != "v480p" {
		t.Fatalf("video representations out of order: %+v", video)
	}
	top := video[0]
	if top.Bandwidth != 5_000_000 || top.Codecs != "avc1.640028" || top.Width != 1920 || top.Height != 1080 || top.FrameRate != "30000/1001" {
		t.Errorf("top representation: %+v", top)
	}
	if video[1].FrameRate != "25" {
		t.Errorf("frameRate %q", video[1].FrameRate)
	}
	audio := m.Sets[1].Reps
	if len(audio) != 1 || audio[0].Codecs != "mp4a.40.2" || audio[0].SampleRate != 48000 || audio[0].Channels == nil || audio[0].Channels.Value != "2" {
		t.Fatalf("audio: %+v", audio)
	}

	// Every representation addresses exactly the files HLS lists, and the
	// timeline covers the track's duration to the millisecond.
	byDir := map[string]*vodfleetv1.TrackOutput{}
	for _, tr := range tracks {
		byDir[tr.GetDir()] = tr
	}
	for _, set := range m.Sets {
		for _, r := range set.Reps {
			tr := byDir[r.ID]
			tmpl := r.Template
			if tmpl.Init != r.ID+"/init.mp4" || tmpl.Media != r.ID+"/seg_$Number%05d$.m4s" || tmpl.StartNumber != 1 {
				t.Errorf("%s template: %+v", r.ID, tmpl)
			}
			segs := expand(t, tmpl)
			if len(segs) != len(tr.GetSegments()) {
				t.Fatalf("%s: %d segments, want %d", r.ID, len(segs), len(tr.GetSegments()))
			}
			for i, s := range segs {
				if want := join(tr.GetDir(), tr.GetSegments()[i].GetName()); s.url != want {
					t.Errorf("%s segment %d: %q, want %q", r.ID, i, s.url, want)
				}
			}
			end := float64(segs[len(segs)-1].end) / float64(tmpl.Timescale)
			if segs[0].start != 0 || math.Abs(end-duration(tr)) > 0.001 {
				t.Errorf("%s: timeline [%d, %v s], track lasts %v s", r.ID, segs[0].start, end, duration(tr))
			}
		}
	}
	if got := HLSMedia(byDir["audio"]); !strings.Contains(got, "seg_00004.m4s") {
		t.Error("HLS and DASH disagree on the audio segments")
	}
}

func TestDASHNoDrift(t *testing.T) {
	// 1000 segments of 4.004 s (120 frames at 30000/1001) and AAC segments
	// whose durations are rounded to microseconds in the playlist.
	v := &vodfleetv1.TrackOutput{Dir: "v", InitName: "init.mp4", Codecs: "avc1.640028", Width: 1920, Height: 1080,
		FrameRate: 29.97, Segments: segments(1000, 4.004, 1)}
	a := &vodfleetv1.TrackOutput{Dir: "a", InitName: "init.mp4", Codecs: "mp4a.40.2", SampleRate: 48000,
		Segments: segments(1000, 4.010667, 1)}
	s, err := DASH([]*vodfleetv1.TrackOutput{v, a}, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, s)
	if m.Duration != "PT4010.667S" {
		t.Errorf("duration %s", m.Duration)
	}
	for _, set := range m.Sets {
		r := set.Reps[0]
		segs := expand(t, r.Template)
		ts := float64(r.Template.Timescale)
		tr := v
		if set.ContentType == "audio" {
			tr = a
		}
		var sum float64
		for i, seg := range segs {
			// Each start is within half a tick of the exact cumulative time.
			if math.Abs(float64(seg.start)/ts-sum) > 0.5/ts+1e-9 {
				t.Fatalf("%s segment %d starts at %v s, want %v s", set.ContentType, i, float64(seg.start)/ts, sum)
			}
			sum += tr.GetSegments()[i].GetDurationSeconds()
		}
		if end := float64(segs[len(segs)-1].end) / ts; math.Abs(end-sum) > 0.001 {
			t.Errorf("%s ends at %v s, want %v s", set.ContentType, end, sum)
		}
	}
	// Equal durations collapse into one S with @r for the video.
	if vs := m.Sets[0].Reps[0].Template.S; len(vs) != 1 || vs[0].R != 999 || vs[0].D != 360360 {
		t.Errorf("video timeline not compact: %+v", vs)
	}
}

func TestDASHErrors(t *testing.T) {
	good := func() *vodfleetv1.TrackOutput {
		return &vodfleetv1.TrackOutput{Dir: "v", InitName: "init.mp4", Width: 640, Height: 360, Segments: segments(3, 2, 1)}
	}
	gap := good()
	gap.Segments[2].Name = "seg_00004.m4s"
	renamed := good()
	renamed.Segments[1].Name = "part_00002.m4s"
	noInit := good()
	noInit.InitName = ""
	zero := good()
	zero.Segments[0].DurationSeconds = 0
	empty := good()
	empty.Segments = nil
	for name, tc := range map[string]struct {
		tracks []*vodfleetv1.TrackOutput
		want   error
	}{
		"no tracks":   {nil, ErrNoTracks},
		"unknown":     {[]*vodfleetv1.TrackOutput{{Dir: "x"}}, ErrNoTracks},
		"gap":         {[]*vodfleetv1.TrackOutput{gap}, ErrSegmentNames},
		"renamed":     {[]*vodfleetv1.TrackOutput{renamed}, ErrSegmentNames},
		"no init":     {[]*vodfleetv1.TrackOutput{noInit}, ErrInvalidTrack},
		"zero length": {[]*vodfleetv1.TrackOutput{zero}, ErrInvalidTrack},
		"no segments": {[]*vodfleetv1.TrackOutput{empty}, ErrNoSegments},
	} {
		if _, err := DASH(tc.tracks, 6); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func TestSegmentTemplate(t *testing.T) {
	for _, tc := range []struct {
		names []string
		media string
		start int64
	}{
		{[]string{"seg_00001.m4s", "seg_00002.m4s"}, "seg_$Number%05d$.m4s", 1},
		{[]string{"seg_0.m4s", "seg_1.m4s"}, "seg_$Number$.m4s", 0},
		{[]string{"chunk-9.m4s", "chunk-10.m4s"}, "chunk-$Number$.m4s", 9},
		{[]string{"a$b_07.mp4", "a$b_08.mp4"}, "a$$b_$Number%02d$.mp4", 7},
		{[]string{"seg_99999.m4s", "seg_100000.m4s"}, "seg_$Number$.m4s", 99999},
		{[]string{"seg_09999.m4s", "seg_10000.m4s"}, "seg_$Number%05d$.m4s", 9999},
		{[]string{"seg_00001.m4s", "seg_00003.m4s"}, "", 0},
		{[]string{"init.mp4"}, "", 0},
	} {
		var segs []*vodfleetv1.Segment
		for _, n := range tc.names {
			segs = append(segs, &vodfleetv1.Segment{Name: n, DurationSeconds: 1})
		}
		media, start, err := segmentTemplate(segs)
		if tc.media == "" {
			if !errors.Is(err, ErrSegmentNames) {
				t.Errorf("%v: err = %v, want ErrSegmentNames", tc.names, err)
			}
			continue
		}
		if err != nil || media != tc.media || start != tc.start {
			t.Errorf("%v: %q %d %v, want %q %d", tc.names, media, start, err, tc.media, tc.start)
		}
	}
}
