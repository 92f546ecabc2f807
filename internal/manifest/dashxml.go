package manifest

import "encoding/xml"

// The MPD elements and attributes used, in schema order (ISO/IEC 23009-1:
// the RepresentationBase descriptors, then Role, BaseURL, SegmentTemplate).
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
		Lang             string              `xml:"lang,attr,omitempty"`
		SegmentAlignment bool                `xml:"segmentAlignment,attr,omitempty"`
		StartWithSAP     int                 `xml:"startWithSAP,attr,omitempty"`
		MaxWidth         int32               `xml:"maxWidth,attr,omitempty"`
		MaxHeight        int32               `xml:"maxHeight,attr,omitempty"`
		Label            string              `xml:"Label,omitempty"`
		Role             *descriptorXML      `xml:"Role"`
		Representations  []representationXML `xml:"Representation"`
	}
	representationXML struct {
		ID                string           `xml:"id,attr"`
		Bandwidth         int64            `xml:"bandwidth,attr"`
		Codecs            string           `xml:"codecs,attr,omitempty"`
		Width             int32            `xml:"width,attr,omitempty"`
		Height            int32            `xml:"height,attr,omitempty"`
		FrameRate         string           `xml:"frameRate,attr,omitempty"`
		SAR               string           `xml:"sar,attr,omitempty"`
		AudioSamplingRate int32            `xml:"audioSamplingRate,attr,omitempty"`
		AudioChannels     *descriptorXML   `xml:"AudioChannelConfiguration"`
		Essential         *descriptorXML   `xml:"EssentialProperty"`
		BaseURL           string           `xml:"BaseURL,omitempty"`
		SegmentTemplate   *segmentTemplXML `xml:"SegmentTemplate"`
	}
	descriptorXML struct {
		SchemeIDURI string `xml:"schemeIdUri,attr"`
		Value       string `xml:"value,attr"`
	}
	segmentTemplXML struct {
		Timescale      int64  `xml:"timescale,attr"`
		Duration       int64  `xml:"duration,attr,omitempty"`
		Initialization string `xml:"initialization,attr,omitempty"`
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
