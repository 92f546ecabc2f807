package manifest

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// DASH profile and schema of the MPDs written here: static, ISO BMFF live
// profile (SegmentTemplate with $Number$), which is what CMAF segments need.
const (
	dashNamespace = "urn:mpeg:dash:schema:mpd:2011"
	dashProfile   = "urn:mpeg:dash:profile:isoff-live:2011"
	channelScheme = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
	roleScheme    = "urn:mpeg:dash:role:2011"
)

// DASH returns a static MPD for the tracks alone (see Presentation.DASH).
// durationSeconds is the presentation duration (the source's); zero means
// the longest track.
func DASH(tracks []*vodfleetv1.TrackOutput, durationSeconds float64) (string, error) {
	return Presentation{Tracks: tracks, Duration: durationSeconds}.DASH()
}

// DASH returns a static MPD for p: one video AdaptationSet with a
// Representation per video track (highest bandwidth first) and one audio
// AdaptationSet per audio track (with @lang when known; with several, the
// first has the role "main"). Every Representation addresses the same init
// and media segment files the HLS playlists list, through a SegmentTemplate
// with a drift-free SegmentTimeline (see timeline). Subtitles and the
// thumbnail sprite follow as sidecar AdaptationSets (see textSet and
// thumbnailSet). TS variants are HLS only and not described.
//
// Errors wrap ErrNoTracks, ErrNoSegments, ErrInvalidTrack or
// ErrSegmentNames; all of them mean the input tracks are wrong.
func (p Presentation) DASH() (string, error) {
	video, audio := split(p.Tracks)
	if len(video)+len(audio) == 0 {
		return "", ErrNoTracks
	}
	var longestSeg float64
	period := periodXML{ID: "0", Start: "PT0S"}
	// Video in one set (its tracks are bitrate alternatives), each audio
	// track in its own (they are different languages or mixes).
	groups := [][]*vodfleetv1.TrackOutput{video}
	for _, a := range audio {
		groups = append(groups, []*vodfleetv1.TrackOutput{a})
	}
	for i, group := range groups {
		if len(group) == 0 {
			continue
		}
		set := adaptationSetXML{ID: len(period.AdaptationSets), SegmentAlignment: true, StartWithSAP: 1}
		if i == 0 {
			set.ContentType, set.MimeType = "video", "video/mp4"
		} else {
			set.ContentType, set.MimeType = "audio", "audio/mp4"
			lang := languageOf(group[0].GetLanguage())
			set.Lang = lang.tag
			if len(audio) > 1 {
				set.Label = lang.name
				role := "alternate"
				if i == 1 {
					role = "main"
				}
				set.Role = &descriptorXML{SchemeIDURI: roleScheme, Value: role}
			}
		}
		for j, t := range group {
			rep, err := representation(t, set.ContentType, j)
			if err != nil {
				return "", err
			}
			set.MaxWidth = max(set.MaxWidth, rep.Width)
			set.MaxHeight = max(set.MaxHeight, rep.Height)
			set.Representations = append(set.Representations, rep)
			longestSeg = max(longestSeg, maxSegment(t))
		}
		period.AdaptationSets = append(period.AdaptationSets, set)
	}
	total := p.duration()
	for _, s := range p.Subtitles {
		period.AdaptationSets = append(period.AdaptationSets, textSet(len(period.AdaptationSets), s))
	}
	if set, ok := thumbnailSet(len(period.AdaptationSets), p.Thumbnails); ok {
		period.AdaptationSets = append(period.AdaptationSets, set)
	}
	doc := mpdXML{
		Xmlns:                     dashNamespace,
		Profiles:                  dashProfile,
		Type:                      "static",
		MinBufferTime:             xsDuration(max(longestSeg, 1)),
		MediaPresentationDuration: xsDuration(total),
		Period:                    []periodXML{period},
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("marshal mpd: %w", err)
	}
	return xml.Header + string(out) + "\n", nil
}

// representation describes one track; index makes a fallback id unique.
func representation(t *vodfleetv1.TrackOutput, kind string, index int) (representationXML, error) {
	dir := t.GetDir()
	if len(t.GetSegments()) == 0 {
		return representationXML{}, fmt.Errorf("track %q: %w", dir, ErrNoSegments)
	}
	if t.GetInitName() == "" {
		return representationXML{}, fmt.Errorf("track %q: no init segment: %w", dir, ErrInvalidTrack)
	}
	for i, s := range t.GetSegments() {
		if !(s.GetDurationSeconds() > 0) {
			return representationXML{}, fmt.Errorf("track %q: segment %d has duration %v: %w", dir, i, s.GetDurationSeconds(), ErrInvalidTrack)
		}
	}
	media, start, err := segmentTemplate(t.GetSegments())
	if err != nil {
		return representationXML{}, fmt.Errorf("track %q: %w", dir, err)
	}
	ts := timescaleOf(t)
	tmpl := &segmentTemplXML{
		Timescale:      ts,
		Initialization: escapeTemplate(join(dir, t.GetInitName())),
		Media:          joinTemplate(dir, media),
		StartNumber:    start,
	}
	for k, e := range timeline(t.GetSegments(), ts) {
		s := sXML{D: e.d, R: e.r}
		if k == 0 {
			s.T = &e.t
		}
		tmpl.Timeline = append(tmpl.Timeline, s)
	}
	rep := representationXML{ID: representationID(dir, kind, index), Bandwidth: peak(t), Codecs: t.GetCodecs(), SegmentTemplate: tmpl}
	if kind == "video" {
		rep.Width, rep.Height, rep.SAR = t.GetWidth(), t.GetHeight(), "1:1"
		if fr := t.GetFrameRate(); fr > 0 {
			rep.FrameRate = frameRateRatio(fr)
		}
	} else {
		rep.AudioSamplingRate = t.GetSampleRate()
		if c := t.GetChannels(); c > 0 {
			rep.AudioChannels = &descriptorXML{SchemeIDURI: channelScheme, Value: strconv.Itoa(int(c))}
		}
	}
	return rep, nil
}

// representationID makes a Representation@id (no whitespace allowed) from
// a path; index makes the fallback for an empty one unique.
func representationID(p, kind string, index int) string {
	id := strings.Join(strings.Fields(p), "_")
	if id == "" {
		id = kind + strconv.Itoa(index)
	}
	return id
}

// joinTemplate prefixes an already escaped template with the escaped dir.
func joinTemplate(dir, media string) string {
	if dir == "" {
		return media
	}
	return escapeTemplate(strings.TrimSuffix(dir, "/")) + "/" + media
}

// xsDuration formats seconds as an xs:duration with millisecond precision,
// e.g. "PT6.000S"; players accept seconds above 60.
func xsDuration(sec float64) string {
	return fmt.Sprintf("PT%.3fS", sec)
}
