package manifest

import (
	"path"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Presentation is everything the manifests of one asset describe. Every
// path in it is relative to the asset root, where the HLS master and the
// MPD live.
type Presentation struct {
	// Tracks are the CMAF video and audio tracks, one TrackOutput per
	// rendition and one per audio track. DASH lists all of them; so does
	// the HLS master unless TS is set. The first audio track is the main
	// one: players select it by default and the TS variants carry it.
	Tracks []*vodfleetv1.TrackOutput
	// TS are MPEG-TS variants (a video rendition with the main audio muxed
	// in), one per rendition. When set, the HLS master lists them instead
	// of the CMAF tracks, for players that cannot play fMP4. They carry
	// only the main audio: other audio tracks are on the CMAF timeline,
	// which does not start where MPEG-TS timestamps do, so HLS cannot mix
	// them (DASH still offers every language).
	TS []*vodfleetv1.TrackOutput
	// Subtitles are WebVTT sidecar files whose cue times are on the
	// zero-based timeline of the CMAF tracks.
	Subtitles []*vodfleetv1.SubtitleTrack
	// Thumbnails is the preview sprite and its WebVTT track; nil for none.
	Thumbnails *vodfleetv1.ThumbnailOutput
	// Duration is the presentation duration in seconds (the source's);
	// zero means the longest track.
	Duration float64
	// MediaPlaylist is the file name of each track's HLS media playlist
	// inside its directory, e.g. "media.m3u8".
	MediaPlaylist string
}

// duration is p.Duration, else the longest track.
func (p Presentation) duration() float64 {
	if p.Duration > 0 {
		return p.Duration
	}
	var d float64
	video, audio := split(p.Tracks)
	for _, t := range append(video, audio...) {
		d = max(d, duration(t))
	}
	for _, t := range p.TS {
		d = max(d, duration(t))
	}
	return d
}

// tsMode reports whether the HLS master lists MPEG-TS variants.
func (p Presentation) tsMode() bool { return len(p.TS) > 0 }

// tsSubtitleDir is where, in TS mode, the HLS subtitle playlists and the
// timestamp-mapped copies of the WebVTT files live (see TimestampMap): the
// originals serve DASH and CMAF HLS, whose timeline starts at zero.
const tsSubtitleDir = "ts"

// HLSSubtitleVTT returns where the HLS subtitle playlist of s expects its
// WebVTT file: s.Path itself, or in TS mode a copy under "ts/" that the
// packager must write with TimestampMap.
func (p Presentation) HLSSubtitleVTT(s *vodfleetv1.SubtitleTrack) string {
	if p.tsMode() {
		return path.Join(tsSubtitleDir, s.GetPath())
	}
	return s.GetPath()
}

// hlsSubtitlePlaylist is the path of the HLS media playlist of s: next to
// the WebVTT file it lists, with the extension .m3u8.
func (p Presentation) hlsSubtitlePlaylist(s *vodfleetv1.SubtitleTrack) string {
	vtt := p.HLSSubtitleVTT(s)
	return strings.TrimSuffix(vtt, path.Ext(vtt)) + ".m3u8"
}

// HLSMediaPlaylists returns every media playlist the HLS master refers to,
// by path: one per CMAF track (or per TS variant) and one per subtitle
// track.
func (p Presentation) HLSMediaPlaylists() map[string]string {
	out := map[string]string{}
	for _, t := range p.hlsTracks() {
		out[join(t.GetDir(), p.MediaPlaylist)] = HLSMedia(t)
	}
	for _, s := range p.Subtitles {
		out[p.hlsSubtitlePlaylist(s)] = SubtitlePlaylist(path.Base(p.HLSSubtitleVTT(s)), p.duration())
	}
	return out
}

// hlsTracks are the tracks the HLS master lists: the CMAF tracks or the TS
// variants.
func (p Presentation) hlsTracks() []*vodfleetv1.TrackOutput {
	if !p.tsMode() {
		return p.Tracks
	}
	return p.TS
}
