package manifest

import (
	"encoding/xml"
	"testing"
)

// sidecarMPD is the part of an MPD the tests of languages, subtitles and
// thumbnails read.
type sidecarMPD struct {
	XMLName xml.Name `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Sets    []struct {
		ID          int    `xml:"id,attr"`
		ContentType string `xml:"contentType,attr"`
		MimeType    string `xml:"mimeType,attr"`
		Lang        string `xml:"lang,attr"`
		Label       string `xml:"Label"`
		Role        struct {
			Scheme string `xml:"schemeIdUri,attr"`
			Value  string `xml:"value,attr"`
		} `xml:"Role"`
		Reps []struct {
			ID        string `xml:"id,attr"`
			Bandwidth int64  `xml:"bandwidth,attr"`
			Width     int    `xml:"width,attr"`
			Height    int    `xml:"height,attr"`
			Essential *struct {
				Scheme string `xml:"schemeIdUri,attr"`
				Value  string `xml:"value,attr"`
			} `xml:"EssentialProperty"`
			BaseURL  string `xml:"BaseURL"`
			Template *struct {
				Timescale   int64  `xml:"timescale,attr"`
				Duration    int64  `xml:"duration,attr"`
				Init        string `xml:"initialization,attr"`
				Media       string `xml:"media,attr"`
				StartNumber int64  `xml:"startNumber,attr"`
			} `xml:"SegmentTemplate"`
		} `xml:"Representation"`
	} `xml:"Period>AdaptationSet"`
}

func parseSidecarMPD(t *testing.T, s string) sidecarMPD {
	t.Helper()
	var m sidecarMPD
	if err := xml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, s)
	}
	for i, set := range m.Sets {
		if set.ID != i {
			t.Errorf("adaptation set %d has id %d", i, set.ID)
		}
	}
	return m
}
