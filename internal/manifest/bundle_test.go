package manifest

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

var names = Names{Master: "master.m3u8", MPD: "manifest.mpd", Media: "media.m3u8"}

// mediaLines returns the attribute maps of the master's EXT-X-MEDIA tags of
// one TYPE.
func mediaLines(t *testing.T, master, typ string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, l := range strings.Split(master, "\n") {
		if strings.HasPrefix(l, "#EXT-X-MEDIA:") {
			if a := attrs(t, l); a["TYPE"] == typ {
				out = append(out, a)
			}
		}
	}
	return out
}

// variantLines returns the attributes and URI of each EXT-X-STREAM-INF.
func variantLines(t *testing.T, master string) (list []map[string]string, uris []string) {
	t.Helper()
	lines := strings.Split(master, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") {
			list = append(list, attrs(t, l))
			uris = append(uris, lines[i+1])
		}
	}
	return list, uris
}

// withLanguages is the ladder with an English main audio and a French
// second track.
func withLanguages() []*vodfleetv1.TrackOutput {
	tracks := ladder()
	tracks[1].Language = "eng"
	return append(tracks, &vodfleetv1.TrackOutput{Dir: "audio_2", InitName: "init.mp4", Segments: segments(3, 2, 40_000),
		Codecs: "mp4a.40.2", AverageBitrate: 160_000, PeakBitrate: 170_000, SampleRate: 48000, Channels: 6, Language: "fre"})
}

func TestBuildDefaultsMatchPlainManifests(t *testing.T) {
	spec := &vodfleetv1.TaskSpec{Tracks: ladder(), SourceDurationSeconds: 6}
	b, err := Build(spec, names)
	if err != nil {
		t.Fatal(err)
	}
	mpd, err := DASH(ladder(), 6)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"master.m3u8": HLSMaster(ladder(), "media.m3u8"), "manifest.mpd": mpd}
	for _, tr := range ladder() {
		want[tr.GetDir()+"/media.m3u8"] = HLSMedia(tr)
	}
	if len(b.Files) != len(want) || len(b.Mapped) != 0 {
		t.Errorf("files %v, mapped %v", keys(b.Files), b.Mapped)
	}
	for name, body := range want {
		if b.Files[name] != body {
			t.Errorf("%s differs:\n%s\nwant\n%s", name, b.Files[name], body)
		}
	}
	if !proto.Equal(b.Result, &vodfleetv1.PackageResult{HlsMaster: "master.m3u8", DashManifest: "manifest.mpd"}) {
		t.Errorf("result %v", b.Result)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestAudioLanguages(t *testing.T) {
	master := HLSMaster(withLanguages(), "media.m3u8")
	audio := mediaLines(t, master, "AUDIO")
	if len(audio) != 2 {
		t.Fatalf("audio renditions:\n%s", master)
	}
	if a := audio[0]; a["LANGUAGE"] != "en" || a["NAME"] != "English" || a["DEFAULT"] != "YES" || a["URI"] != "audio/media.m3u8" || a["GROUP-ID"] != "audio" {
		t.Errorf("main audio %v", a)
	}
	if a := audio[1]; a["LANGUAGE"] != "fr" || a["NAME"] != "French" || a["DEFAULT"] != "NO" || a["CHANNELS"] != "6" || a["URI"] != "audio_2/media.m3u8" {
		t.Errorf("second audio %v", a)
	}
	variants, _ := variantLines(t, master)
	// The largest audio peak (170 kb/s) counts in every variant.
	if v := variants[0]; v["BANDWIDTH"] != "5170000" || v["AUDIO"] != "audio" {
		t.Errorf("top variant %v", v)
	}

	// Unknown, undetermined and repeated languages.
	tracks := withLanguages()
	tracks[1].Language, tracks[4].Language = "und", ""
	tracks = append(tracks, &vodfleetv1.TrackOutput{Dir: "audio_3", InitName: "init.mp4", Segments: segments(3, 2, 1), Codecs: "mp4a.40.2", SampleRate: 48000, Language: "qaa"},
		&vodfleetv1.TrackOutput{Dir: "audio_4", InitName: "init.mp4", Segments: segments(3, 2, 1), Codecs: "mp4a.40.2", SampleRate: 48000, Language: "qaa"})
	audio = mediaLines(t, HLSMaster(tracks, "media.m3u8"), "AUDIO")
	if len(audio) != 4 || audio[0]["NAME"] != "audio" || audio[0]["LANGUAGE"] != "" || audio[1]["NAME"] != "audio 2" ||
		audio[2]["NAME"] != "qaa" || audio[2]["LANGUAGE"] != "qaa" || audio[3]["NAME"] != "qaa 2" {
		t.Errorf("names: %v", audio)
	}

	s, err := DASH(withLanguages(), 6)
	if err != nil {
		t.Fatal(err)
	}
	m := parseSidecarMPD(t, s)
	if len(m.Sets) != 3 || m.Sets[1].Lang != "en" || m.Sets[2].Lang != "fr" || m.Sets[1].Role.Value != "main" ||
		m.Sets[2].Role.Value != "alternate" || m.Sets[2].Label != "French" || len(m.Sets[2].Reps) != 1 || m.Sets[2].Reps[0].ID != "audio_2" {
		t.Errorf("audio sets: %+v", m.Sets)
	}
}

func TestSubtitles(t *testing.T) {
	subs := &vodfleetv1.SubtitleOutput{Tracks: []*vodfleetv1.SubtitleTrack{
		{Path: "subs/sub_fra.vtt", Language: "fra", Name: "Français"},
		{Path: "subs/sub_3.vtt"},
	}, Skipped: []string{"stream 4 (hdmv_pgs_subtitle): bitmap"}}
	spec := &vodfleetv1.TaskSpec{Tracks: ladder(), SourceDurationSeconds: 6.04,
		Extras: []*vodfleetv1.TaskResult{{Result: &vodfleetv1.TaskResult_Subtitles{Subtitles: subs}}}}
	b, err := Build(spec, names)
	if err != nil {
		t.Fatal(err)
	}
	master := b.Files["master.m3u8"]
	media := mediaLines(t, master, "SUBTITLES")
	if len(media) != 2 {
		t.Fatalf("subtitle renditions:\n%s", master)
	}
	if s := media[0]; s["GROUP-ID"] != "subs" || s["LANGUAGE"] != "fr" || s["NAME"] != "Français" || s["DEFAULT"] != "NO" ||
		s["AUTOSELECT"] != "YES" || s["URI"] != "subs/sub_fra.m3u8" {
		t.Errorf("french %v", s)
	}
	if s := media[1]; s["LANGUAGE"] != "" || s["NAME"] != "Subtitles" || s["URI"] != "subs/sub_3.m3u8" {
		t.Errorf("unknown language %v", s)
	}
	variants, _ := variantLines(t, master)
	for _, v := range variants {
		if v["SUBTITLES"] != "subs" || v["AUDIO"] != "audio" {
			t.Errorf("variant %v", v)
		}
	}
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:6.040000,\nsub_fra.vtt\n#EXT-X-ENDLIST\n"
	if got := b.Files["subs/sub_fra.m3u8"]; got != want {
		t.Errorf("subtitle playlist:\n%s\nwant\n%s", got, want)
	}
	if len(b.Result.GetSubtitles()) != 2 || b.Result.GetSubtitles()[0].GetPath() != "subs/sub_fra.vtt" {
		t.Errorf("result subtitles %v", b.Result.GetSubtitles())
	}

	m := parseSidecarMPD(t, b.Files["manifest.mpd"])
	if len(m.Sets) != 4 {
		t.Fatalf("%d adaptation sets", len(m.Sets))
	}
	for i, want := range []struct{ lang, label, url string }{{"fr", "Français", "subs/sub_fra.vtt"}, {"", "", "subs/sub_3.vtt"}} {
		set := m.Sets[2+i]
		if set.ContentType != "text" || set.MimeType != "text/vtt" || set.Lang != want.lang || set.Label != want.label ||
			set.Role.Value != "subtitle" || len(set.Reps) != 1 || set.Reps[0].BaseURL != want.url || set.Reps[0].Template != nil ||
			set.Reps[0].Bandwidth <= 0 {
			t.Errorf("text set %d: %+v", i, set)
		}
	}

	// Turned off: the task's result is ignored.
	off := false
	spec.Outputs = &vodfleetv1.Outputs{Subtitles: &off}
	if b, err = Build(spec, names); err != nil || strings.Contains(b.Files["master.m3u8"], "SUBTITLES") || len(b.Result.GetSubtitles()) != 0 {
		t.Errorf("subtitles off: %v\n%s", err, b.Files["master.m3u8"])
	}
}

// muxed returns the MUX results of the ladder's renditions: a progressive
// MP4 and TS segments with the main audio.
func muxed() []*vodfleetv1.TaskResult {
	var out []*vodfleetv1.TaskResult
	for _, v := range ladder() {
		if v.GetWidth() == 0 {
			continue
		}
		r := strings.TrimPrefix(v.GetDir(), "v")
		segs := segments(3, 2, 0)
		for i, s := range segs {
			s.Name = strings.Replace(s.GetName(), ".m4s", ".ts", 1)
			s.Size = v.GetSegments()[i].GetSize() + 40_000
		}
		out = append(out, &vodfleetv1.TaskResult{Result: &vodfleetv1.TaskResult_Mux{Mux: &vodfleetv1.MuxOutput{
			Rendition: r, Mp4: "download/" + r + ".mp4", Mp4Size: 1000,
			Ts: &vodfleetv1.TrackOutput{Dir: "ts/" + r, Segments: segs, Codecs: v.GetCodecs() + ",mp4a.40.2",
				Width: v.GetWidth(), Height: v.GetHeight(), FrameRate: v.GetFrameRate(), FirstSegment: 1},
		}}})
	}
	return out
}

func TestTSVariants(t *testing.T) {
	spec := &vodfleetv1.TaskSpec{Tracks: withLanguages(), SourceDurationSeconds: 6,
		Outputs: &vodfleetv1.Outputs{HlsSegments: vodfleetv1.SegmentFormat_SEGMENT_FORMAT_TS, Mp4: true},
		Extras: append(muxed(), &vodfleetv1.TaskResult{Result: &vodfleetv1.TaskResult_Subtitles{Subtitles: &vodfleetv1.SubtitleOutput{
			Tracks: []*vodfleetv1.SubtitleTrack{{Path: "subs/sub_fra.vtt", Language: "fra"}}}}})}
	b, err := Build(spec, names)
	if err != nil {
		t.Fatal(err)
	}
	master := b.Files["master.m3u8"]
	if !strings.HasPrefix(master, "#EXTM3U\n#EXT-X-VERSION:3\n") || len(mediaLines(t, master, "AUDIO")) != 0 {
		t.Errorf("TS master:\n%s", master)
	}
	variants, uris := variantLines(t, master)
	wantURIs := []string{"ts/1080p/media.m3u8", "ts/720p/media.m3u8", "ts/480p/media.m3u8"}
	if strings.Join(uris, " ") != strings.Join(wantURIs, " ") {
		t.Fatalf("variant URIs %v\n%s", uris, master)
	}
	// Bandwidth from the TS segments (audio and overhead included).
	if v := variants[0]; v["BANDWIDTH"] != "4160000" || v["CODECS"] != "avc1.640028,mp4a.40.2" || v["RESOLUTION"] != "1920x1080" ||
		v["AUDIO"] != "" || v["SUBTITLES"] != "subs" || v["FRAME-RATE"] != "29.970" {
		t.Errorf("top TS variant %v", v)
	}
	pl := b.Files["ts/720p/media.m3u8"]
	if !strings.Contains(pl, "#EXT-X-VERSION:3\n") || strings.Contains(pl, "EXT-X-MAP") || !strings.Contains(pl, "\nseg_00003.ts\n") {
		t.Errorf("TS media playlist:\n%s", pl)
	}
	if _, ok := b.Files["v720p/media.m3u8"]; ok {
		t.Error("CMAF media playlists written for a TS master")
	}
	// Subtitles of TS variants use timestamp-mapped copies under ts/.
	if s := mediaLines(t, master, "SUBTITLES"); len(s) != 1 || s[0]["URI"] != "ts/subs/sub_fra.m3u8" {
		t.Errorf("TS subtitles %v", s)
	}
	if !strings.Contains(b.Files["ts/subs/sub_fra.m3u8"], "\nsub_fra.vtt\n") || b.Mapped["ts/subs/sub_fra.vtt"] != "subs/sub_fra.vtt" || len(b.Mapped) != 1 {
		t.Errorf("mapped %v\n%s", b.Mapped, b.Files["ts/subs/sub_fra.m3u8"])
	}
	// DASH stays on the CMAF tracks with every language.
	m := parseSidecarMPD(t, b.Files["manifest.mpd"])
	if len(m.Sets) != 4 || m.Sets[0].Reps[0].ID != "v1080p" || m.Sets[3].Reps[0].BaseURL != "subs/sub_fra.vtt" {
		t.Errorf("DASH with TS HLS: %+v", m.Sets)
	}
	if got := strings.Join(b.Result.GetMp4(), " "); got != "download/480p.mp4 download/1080p.mp4 download/720p.mp4" {
		t.Errorf("mp4 %q", got)
	}

	// TS asked for without MUX results.
	spec.Extras = nil
	if _, err := Build(spec, names); !errors.Is(err, ErrMissingTS) {
		t.Errorf("no TS: %v", err)
	}
	// An audio-only asset falls back to CMAF.
	spec.Tracks = []*vodfleetv1.TrackOutput{ladder()[1]}
	if b, err := Build(spec, names); err != nil || !strings.Contains(b.Files["master.m3u8"], "\naudio/media.m3u8\n") {
		t.Errorf("audio only: %v", err)
	}
}

func TestThumbnails(t *testing.T) {
	th := &vodfleetv1.ThumbnailOutput{Poster: "thumbs/poster.jpg", Sprite: "thumbs/sprite.jpg", Vtt: "thumbs/thumbnails.vtt",
		TileWidth: 160, TileHeight: 90, Columns: 10, Rows: 2, Count: 13, IntervalSeconds: 0.5}
	spec := &vodfleetv1.TaskSpec{Tracks: ladder(), SourceDurationSeconds: 6,
		Extras: []*vodfleetv1.TaskResult{{Result: &vodfleetv1.TaskResult_Thumbnails{Thumbnails: th}}}}
	b, err := Build(spec, names)
	if err != nil {
		t.Fatal(err)
	}
	master := b.Files["master.m3u8"]
	if !strings.Contains(master, "\n#EXT-X-SESSION-DATA:DATA-ID=\"com.vodfleet.thumbnails\",VALUE=\"thumbs/thumbnails.vtt\"\n") {
		t.Errorf("no session data:\n%s", master)
	}
	if b.Result.GetPoster() != "thumbs/poster.jpg" || b.Result.GetThumbnailsVtt() != "thumbs/thumbnails.vtt" {
		t.Errorf("result %v", b.Result)
	}
	m := parseSidecarMPD(t, b.Files["manifest.mpd"])
	set := m.Sets[len(m.Sets)-1]
	if set.ContentType != "image" || set.MimeType != "image/jpeg" || len(set.Reps) != 1 {
		t.Fatalf("image set %+v", set)
	}
	r := set.Reps[0]
	if r.Width != 1600 || r.Height != 180 || r.Essential == nil || r.Essential.Scheme != "http://dashif.org/thumbnail_tile" ||
		r.Essential.Value != "10x2" || r.Bandwidth <= 0 {
		t.Errorf("image representation %+v", r)
	}
	// One segment, the sprite; its 20 tiles of 0.5 s cover the asset.
	if tm := r.Template; tm == nil || tm.Media != "thumbs/sprite.jpg" || tm.Timescale != 1000 || tm.Duration != 10_000 || tm.StartNumber != 1 || tm.Init != "" {
		t.Errorf("image template %+v", r.Template)
	}

	off := false
	spec.Outputs = &vodfleetv1.Outputs{Thumbnails: &off}
	if b, err = Build(spec, names); err != nil || strings.Contains(b.Files["master.m3u8"], "SESSION-DATA") ||
		strings.Contains(b.Files["manifest.mpd"], "image/jpeg") || b.Result.GetPoster() != "" {
		t.Errorf("thumbnails off: %v", err)
	}
}

func TestOutputsOff(t *testing.T) {
	off := false
	spec := &vodfleetv1.TaskSpec{Tracks: ladder(), Outputs: &vodfleetv1.Outputs{Hls: &off}}
	b, err := Build(spec, names)
	if err != nil || len(b.Files) != 1 || b.Files["manifest.mpd"] == "" || b.Result.GetHlsMaster() != "" || b.Result.GetDashManifest() != "manifest.mpd" {
		t.Errorf("HLS off: %v %v %v", err, keys(b.Files), b.Result)
	}
	spec.Outputs = &vodfleetv1.Outputs{Dash: &off}
	b, err = Build(spec, names)
	if err != nil || len(b.Files) != 5 || b.Files["manifest.mpd"] != "" || b.Result.GetHlsMaster() != "master.m3u8" || b.Result.GetDashManifest() != "" {
		t.Errorf("DASH off: %v %v %v", err, keys(b.Files), b.Result)
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build(&vodfleetv1.TaskSpec{}, names); !errors.Is(err, ErrNoTracks) {
		t.Errorf("no tracks: %v", err)
	}
	for _, bad := range []string{"", "../x", "/abs", `a\b`} {
		tracks := ladder()
		tracks[0].Dir = bad
		if _, err := Build(&vodfleetv1.TaskSpec{Tracks: tracks}, names); !errors.Is(err, ErrBadPath) {
			t.Errorf("dir %q: %v", bad, err)
		}
		subs := &vodfleetv1.SubtitleOutput{Tracks: []*vodfleetv1.SubtitleTrack{{Path: bad}}}
		spec := &vodfleetv1.TaskSpec{Tracks: ladder(), Extras: []*vodfleetv1.TaskResult{{Result: &vodfleetv1.TaskResult_Subtitles{Subtitles: subs}}}}
		if _, err := Build(spec, names); !errors.Is(err, ErrBadPath) {
			t.Errorf("subtitle %q: %v", bad, err)
		}
	}
	tracks := ladder()
	tracks[0].Segments[1].Name = "x.m4s"
	if _, err := Build(&vodfleetv1.TaskSpec{Tracks: tracks}, names); !errors.Is(err, ErrSegmentNames) {
		t.Errorf("bad segments: %v", err)
	}
}

func TestTimestampMap(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"plain":    {"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n", "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.000 --> 00:01.000\nhi\n"},
		"bom crlf": {"\uFEFFWEBVTT - title\r\nKind: captions\r\n\r\n1\r\n", "WEBVTT - title\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\nKind: captions\r\n\r\n1\r\n"},
		"replaced": {"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\nX-TIMESTAMP-MAP=kept in the body\n", "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\nX-TIMESTAMP-MAP=kept in the body\n"},
		"empty":    {"WEBVTT", "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n"},
	} {
		got, err := TimestampMap([]byte(tc.in), 126000)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %v\n%q\nwant\n%q", name, err, got, tc.want)
		}
	}
	if _, err := TimestampMap([]byte("1\n00:00.000 --> 00:01.000\n"), 0); !errors.Is(err, ErrBadWebVTT) {
		t.Errorf("not webvtt: %v", err)
	}
}

func TestQuote(t *testing.T) {
	if got := quote("Bokmål \"x\"\n"); got != `"Bokmål 'x' "` {
		t.Errorf("quote: %s", got)
	}
}
