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
)

// The MPD elements and attributes used, in schema order.
type (
	mpdXML struct {
		XMLName                   xml.Name    `xml:"MPD"`
		Xmlns                     string      `xml:"xmlns,attr"`
		Profiles                  string      `xml:"profiles,attr"`
		Type                      string      `xml:"type,attr"`
		MinBufferTime             string      `xml:"minBufferTime,attr"`
		MediaPresentationDuration string      `xml:"mediaPresentationDuration,attr"`
		Period                    []periodXML `xml:"Period"`
	}
	periodXML struct {
		ID             string             `xml:"id,attr"`
		Start          string             `xml:"start,attr"`
		AdaptationSets []adaptationSetXML `xml:"AdaptationSet"`
	}
	adaptationSetXML struct {
		ID               int                 `xml:"id,attr"`
		ContentType      string              `xml:"contentType,attr"`
		MimeType         string              `xml:"mimeType,attr"`
		SegmentAlignment bool                `xml:"segmentAlignment,attr"`
		StartWithSAP     int                 `xml:"startWithSAP,attr"`
		MaxWidth         int32               `xml:"maxWidth,attr,omitempty"`
		MaxHeight        int32               `xml:"maxHeight,attr,omitempty"`
		Representations  []representationXML `xml:"Representation"`
	}
	representationXML struct {
		ID                string          `xml:"id,attr"`
		Bandwidth         int64           `xml:"bandwidth,attr"`
		Codecs            string          `xml:"codecs,attr,omitempty"`
		Width             int32           `xml:"width,attr,omitempty"`
		Height            int32           `xml:"height,attr,omitempty"`
		FrameRate         string          `xml:"frameRate,attr,omitempty"`
		SAR               string          `xml:"sar,attr,omitempty"`
		AudioSamplingRate int32           `xml:"audioSamplingRate,attr,omitempty"`
		AudioChannels     *descriptorXML  `xml:"AudioChannelConfiguration"`
		SegmentTemplate   segmentTemplXML `xml:"SegmentTemplate"`
	}
	descriptorXML struct {
		SchemeIDURI string `xml:"schemeIdUri,attr"`
		Value       string `xml:"value,attr"`
	}
	segmentTemplXML struct {
		Timescale      int64  `xml:"timescale,attr"`
		Initialization string `xml:"initialization,attr"`
		Media          string `xml:"media,attr"`
		StartNumber    int64  `xml:"startNumber,attr"`
		Timeline       []sXML `xml:"SegmentTimeline>S"`
	}
	sXML struct {
		T *int64 `xml:"t,attr"`
		D int64  `xml:"d,attr"`
		R int    `xml:"r,attr,omitempty"`
	}
)

// DASH returns a static MPD for the tracks: one video AdaptationSet with a
// Representation per video track (highest bandwidth first) and one audio
// AdaptationSet. Every Representation addresses the same init and media
// segment files the HLS playlists list, through a SegmentTemplate with a
// drift-free SegmentTimeline (see timeline). durationSeconds is the
// presentation duration (the source's); zero means the longest track.
//
// Errors wrap ErrNoTracks, ErrNoSegments, ErrInvalidTrack or
// ErrSegmentNames; all of them mean the input tracks are wrong.
func DASH(tracks []*vodfleetv1.TrackOutput, durationSeconds float64) (string, error) {
	video, audio := split(tracks)
	if len(video)+len(audio) == 0 {
		return "", ErrNoTracks
	}
	var longestTrack, longestSeg float64
	period := periodXML{ID: "0", Start: "PT0S"}
	for i, group := range [][]*vodfleetv1.TrackOutput{video, audio} {
		if len(group) == 0 {
			continue
		}
		set := adaptationSetXML{ID: len(period.AdaptationSets), SegmentAlignment: true, StartWithSAP: 1}
		if i == 0 {
			set.ContentType, set.MimeType = "video", "video/mp4"
		} else {
			set.ContentType, set.MimeType = "audio", "audio/mp4"
		}
		for j, t := range group {
			rep, err := representation(t, set.ContentType, j)
			if err != nil {
				return "", err
			}
			set.MaxWidth = max(set.MaxWidth, rep.Width)
			set.MaxHeight = max(set.MaxHeight, rep.Height)
			set.Representations = append(set.Representations, rep)
			longestTrack = max(longestTrack, duration(t))
			longestSeg = max(longestSeg, maxSegment(t))
		}
		period.AdaptationSets = append(period.AdaptationSets, set)
	}
	if durationSeconds <= 0 {
		durationSeconds = longestTrack
	}
	doc := mpdXML{
		Xmlns:                     dashNamespace,
		Profiles:                  dashProfile,
		Type:                      "static",
		MinBufferTime:             xsDuration(max(longestSeg, 1)),
		MediaPresentationDuration: xsDuration(durationSeconds),
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
	tmpl := segmentTemplXML{
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
	id := strings.Join(strings.Fields(dir), "_")
	if id == "" {
		id = kind + strconv.Itoa(index)
	}
	rep := representationXML{ID: id, Bandwidth: peak(t), Codecs: t.GetCodecs(), SegmentTemplate: tmpl}
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
