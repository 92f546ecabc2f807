package smooth

import (
	"encoding/xml"
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// The subset of a static DASH MPD the packager writes (internal/manifest):
// one Period, AdaptationSets of video and audio Representations, each
// with a SegmentTemplate ($Number$ media, an initialization file and a
// SegmentTimeline). A SegmentTemplate on the AdaptationSet is inherited.
type (
	mpdDoc struct {
		Duration string      `xml:"mediaPresentationDuration,attr"`
		Periods  []mpdPeriod `xml:"Period"`
	}
	mpdPeriod struct {
		Sets []mpdSet `xml:"AdaptationSet"`
	}
	mpdSet struct {
		ContentType string       `xml:"contentType,attr"`
		MimeType    string       `xml:"mimeType,attr"`
		Lang        string       `xml:"lang,attr"`
		Template    *mpdTemplate `xml:"SegmentTemplate"`
		Reps        []mpdRep     `xml:"Representation"`
	}
	mpdRep struct {
		ID        string       `xml:"id,attr"`
		Bandwidth int64        `xml:"bandwidth,attr"`
		MimeType  string       `xml:"mimeType,attr"`
		Template  *mpdTemplate `xml:"SegmentTemplate"`
	}
	mpdTemplate struct {
		Timescale      int64  `xml:"timescale,attr"`
		Initialization string `xml:"initialization,attr"`
		Media          string `xml:"media,attr"`
		StartNumber    *int64 `xml:"startNumber,attr"`
		Timeline       []mpdS `xml:"SegmentTimeline>S"`
	}
	mpdS struct {
		T *int64 `xml:"t,attr"`
		D int64  `xml:"d,attr"`
		R int64  `xml:"r,attr"`
	}
)

// maxSegments bounds the timeline an MPD may expand to, so a hostile or
// broken repeat count cannot exhaust memory.
const maxSegments = 1 << 20

// dashRep is one Representation of the MPD, resolved: its kind, init and
// media segment paths (relative to the MPD) and its segment timeline in
// the MPD's timescale.
type dashRep struct {
	kind      string // "video" or "audio"
	lang      string
	set       int // AdaptationSet index, which groups alternatives
	id        string
	bandwidth int64
	init      string
	timescale int64
	segments  []dashSegment
}

// dashSegment is one media segment: its file and its place on the MPD
// timeline.
type dashSegment struct {
	path string
	t, d int64
}

// parseMPD reads the packager's MPD into its video and audio
// representations and the presentation duration in seconds.
func parseMPD(b []byte) ([]dashRep, float64, error) {
	var doc mpdDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadMPD, err)
	}
	if len(doc.Periods) != 1 {
		return nil, 0, fmt.Errorf("%w: %d periods, want 1", ErrBadMPD, len(doc.Periods))
	}
	total, err := parseDuration(doc.Duration)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadMPD, err)
	}
	var reps []dashRep
	for i, set := range doc.Periods[0].Sets {
		for _, r := range set.Reps {
			kind := set.ContentType
			if kind == "" {
				kind, _, _ = strings.Cut(firstNonEmpty(r.MimeType, set.MimeType), "/")
			}
			if kind != "video" && kind != "audio" {
				continue // subtitles and thumbnails have no Smooth form here
			}
			tmpl := r.Template
			if tmpl == nil {
				tmpl = set.Template
			}
			if tmpl == nil {
				return nil, 0, fmt.Errorf("%w: representation %q has no SegmentTemplate", ErrBadMPD, r.ID)
			}
			rep := dashRep{kind: kind, lang: set.Lang, set: i, id: r.ID, bandwidth: r.Bandwidth, timescale: tmpl.Timescale}
			if rep.timescale <= 0 || rep.bandwidth <= 0 {
				return nil, 0, fmt.Errorf("%w: representation %q: timescale %d, bandwidth %d", ErrBadMPD, r.ID, rep.timescale, rep.bandwidth)
			}
			if rep.init, err = expand(tmpl.Initialization, r, 0); err != nil {
				return nil, 0, err
			}
			if rep.segments, err = segments(tmpl, r); err != nil {
				return nil, 0, err
			}
			reps = append(reps, rep)
		}
	}
	return reps, total, nil
}

// segments expands a SegmentTimeline into segment files.
func segments(tmpl *mpdTemplate, r mpdRep) ([]dashSegment, error) {
	number := int64(1)
	if tmpl.StartNumber != nil {
		number = *tmpl.StartNumber
	}
	var out []dashSegment
	var t int64
	for _, s := range tmpl.Timeline {
		if s.T != nil {
			t = *s.T
		}
		if s.D <= 0 || s.R < 0 || int64(len(out))+s.R+1 > maxSegments {
			return nil, fmt.Errorf("%w: representation %q: S d=%d r=%d", ErrBadMPD, r.ID, s.D, s.R)
		}
		for range s.R + 1 {
			p, err := expand(tmpl.Media, r, number)
			if err != nil {
				return nil, err
			}
			out = append(out, dashSegment{path: p, t: t, d: s.D})
			t += s.D
			number++
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: representation %q has no segments", ErrBadMPD, r.ID)
	}
	return out, nil
}

// templateVar matches a DASH template identifier with an optional width.
var templateVar = regexp.MustCompile(`\$(RepresentationID|Number|Bandwidth|Time)?(%0(\d{1,2})d)?\$`)

// expand fills a DASH template ($RepresentationID$, $Number$ with an
// optional %0Nd width, $Bandwidth$, $$) and checks the result is a
// relative path inside the asset.
func expand(tmpl string, r mpdRep, number int64) (string, error) {
	var bad error
	out := templateVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		g := templateVar.FindStringSubmatch(m)
		width := 0
		if g[3] != "" {
			width, _ = strconv.Atoi(g[3])
		}
		switch g[1] {
		case "":
			return "$"
		case "RepresentationID":
			return r.ID
		case "Number":
			return fmt.Sprintf("%0*d", width, number)
		case "Bandwidth":
			return fmt.Sprintf("%0*d", width, r.Bandwidth)
		default:
			bad = fmt.Errorf("%w: template %q uses $Time$", ErrBadMPD, tmpl)
			return ""
		}
	})
	if bad != nil {
		return "", bad
	}
	if out == "" || strings.HasPrefix(out, "/") || strings.Contains(out, "://") || path.Clean(out) != out || strings.HasPrefix(out, "../") {
		return "", fmt.Errorf("%w: segment path %q is not inside the asset", ErrBadMPD, out)
	}
	return out, nil
}

// xsDurationRE matches the xs:duration forms an MPD uses (no years or
// months): PnDTnHnMn.nS.
var xsDurationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration reads an xs:duration into seconds; "" is zero.
func parseDuration(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	m := xsDurationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("duration %q", s)
	}
	var sec float64
	for i, unit := range []float64{86400, 3600, 60, 1} {
		if m[i+1] != "" {
			v, err := strconv.ParseFloat(m[i+1], 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %w", s, err)
			}
			sec += v * unit
		}
	}
	if math.IsInf(sec, 0) {
		return 0, fmt.Errorf("duration %q", s)
	}
	return sec, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
