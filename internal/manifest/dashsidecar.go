package manifest

import (
	"fmt"
	"math"
	"path"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// thumbnailTileScheme marks a DASH-IF IOP thumbnail track: each image of
// the Representation is a grid of value "COLSxROWS" tiles.
const thumbnailTileScheme = "http://dashif.org/thumbnail_tile"

// textBandwidth is the nominal @bandwidth of a WebVTT sidecar file: the
// attribute is mandatory, the file is small and fetched once, and its size
// is not known to the packager.
const textBandwidth = 1000

// textSet is the AdaptationSet of one WebVTT sidecar file, the form
// DASH-IF IOP allows for out-of-band subtitles: a Representation whose
// BaseURL is the whole file, with no segment information.
func textSet(id int, s *vodfleetv1.SubtitleTrack) adaptationSetXML {
	lang := languageOf(s.GetLanguage())
	label := strings.TrimSpace(s.GetName())
	if label == "" {
		label = lang.name
	}
	p := s.GetPath()
	return adaptationSetXML{
		ID: id, ContentType: "text", MimeType: "text/vtt", Lang: lang.tag, Label: label,
		Role: &descriptorXML{SchemeIDURI: roleScheme, Value: "subtitle"},
		Representations: []representationXML{{
			ID:        representationID(strings.ReplaceAll(strings.TrimSuffix(p, path.Ext(p)), "/", "_"), "text", id),
			Bandwidth: textBandwidth,
			BaseURL:   p,
		}},
	}
}

// thumbnailSet is the AdaptationSet of the preview sprite as DASH-IF IOP
// thumbnails (section 6.2.6): an image/jpeg Representation as large as the
// whole sprite, tiled COLSxROWS by an EssentialProperty, with one segment
// (the sprite) addressed by a SegmentTemplate. Players give each tile
// @duration/(COLS*ROWS), so @duration is the grid's span, COLS*ROWS tile
// intervals: at least the whole asset, and each tile k then covers
// [k*interval, (k+1)*interval) exactly as the WebVTT thumbnail track says.
// ok is false when th lacks the grid or interval.
func thumbnailSet(id int, th *vodfleetv1.ThumbnailOutput) (set adaptationSetXML, ok bool) {
	cols, rows := th.GetColumns(), th.GetRows()
	tw, tht := th.GetTileWidth(), th.GetTileHeight()
	intervalMs := int64(math.Round(th.GetIntervalSeconds() * 1000))
	if th.GetSprite() == "" || cols <= 0 || rows <= 0 || tw <= 0 || tht <= 0 || intervalMs <= 0 {
		return adaptationSetXML{}, false
	}
	span := intervalMs * int64(cols) * int64(rows)
	w, h := cols*tw, rows*tht
	// @bandwidth is mandatory; a JPEG sprite takes about a bit per pixel.
	bw := max(1, int64(w)*int64(h)*1000/span)
	return adaptationSetXML{
		ID: id, ContentType: "image", MimeType: "image/jpeg",
		Representations: []representationXML{{
			ID: "thumbnails", Bandwidth: bw, Width: w, Height: h,
			Essential: &descriptorXML{SchemeIDURI: thumbnailTileScheme, Value: fmt.Sprintf("%dx%d", cols, rows)},
			SegmentTemplate: &segmentTemplXML{
				Timescale: 1000, Duration: span, Media: escapeTemplate(th.GetSprite()), StartNumber: 1,
			},
		}},
	}, true
}
