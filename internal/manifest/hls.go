package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// hlsVersion is 7: EXT-X-MAP in a playlist without I-frames-only needs 6,
// and 7 is what fMP4 players and Apple's tools expect.
const hlsVersion = 7

// hlsVersionTS is the version of MPEG-TS and WebVTT playlists and of a
// master listing MPEG-TS variants: nothing in them needs more than 3
// (decimal EXTINF), and the players TS output is for may know no more.
const hlsVersionTS = 3

// Group ids of the alternative renditions in the master.
const (
	audioGroup    = "audio"
	subtitleGroup = "subs"
)

// ThumbnailsDataID is the EXT-X-SESSION-DATA DATA-ID under which the master
// names the WebVTT thumbnail track, for players (and their plugins) that
// show scrubbing previews.
const ThumbnailsDataID = "com.vodfleet.thumbnails"

// HLSMedia returns the VOD media playlist of one track. It is meant to be
// stored in the track directory, so URIs are the bare InitName and segment
// names. TARGETDURATION is the longest segment rounded up, which satisfies
// the rule that every EXTINF rounded to the nearest integer is at most it.
// A track without InitName (MPEG-TS) gets no EXT-X-MAP and version 3.
func HLSMedia(t *vodfleetv1.TrackOutput) string {
	var b strings.Builder
	target := int(math.Ceil(maxSegment(t) - 1e-6))
	if target < 1 {
		target = 1
	}
	version := hlsVersion
	if t.GetInitName() == "" {
		version = hlsVersionTS
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n", version)
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", target)
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	if init := t.GetInitName(); init != "" {
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=%s\n", quote(init))
	}
	for _, s := range t.GetSegments() {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", s.GetDurationSeconds(), s.GetName())
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// HLSMaster returns the master playlist of an asset made of tracks only
// (see Presentation.HLSMaster). Each track's media playlist is expected at
// Dir/mediaPlaylistName (e.g. "v720p/media.m3u8").
func HLSMaster(tracks []*vodfleetv1.TrackOutput, mediaPlaylistName string) string {
	return Presentation{Tracks: tracks, MediaPlaylist: mediaPlaylistName}.HLSMaster()
}

// HLSMaster returns the master playlist of p. Each track's media playlist
// is expected at Dir/MediaPlaylist, each subtitle playlist where
// HLSMediaPlaylists puts it.
//
// Audio tracks form one EXT-X-MEDIA group "audio" with their LANGUAGE and a
// NAME from it (the first is the default). Each video track becomes an
// EXT-X-STREAM-INF, highest bandwidth first, whose BANDWIDTH is its peak
// plus the largest audio peak and whose AVERAGE-BANDWIDTH is its average
// plus the largest audio average, as the HLS spec counts every rendition a
// variant may play. An asset with audio only gets one variant pointing at
// the audio playlist. With TS variants the audio is muxed in, so there is
// no audio group. Subtitles form the group "subs", one WebVTT playlist per
// track; the thumbnail track is named by EXT-X-SESSION-DATA
// (ThumbnailsDataID).
func (p Presentation) HLSMaster() string {
	var b strings.Builder
	version := hlsVersion
	if p.tsMode() {
		version = hlsVersionTS
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", version)
	if th := p.Thumbnails; th.GetVtt() != "" {
		fmt.Fprintf(&b, "#EXT-X-SESSION-DATA:DATA-ID=%s,VALUE=%s\n", quote(ThumbnailsDataID), quote(th.GetVtt()))
	}
	if p.tsMode() {
		subs := p.writeSubtitleMedia(&b)
		video, _ := split(p.TS)
		for _, v := range video {
			p.writeVariant(&b, v, variantExtras{subtitles: subs})
		}
		return b.String()
	}

	video, audio := split(p.Tracks)
	var extra variantExtras
	names := uniqueNames{}
	for i, a := range audio {
		extra.peak = max(extra.peak, peak(a))
		extra.average = max(extra.average, average(a))
		if extra.codecs == "" {
			extra.codecs = a.GetCodecs()
		}
		lang := languageOf(a.GetLanguage())
		name := lang.name
		if name == "" {
			name = "audio"
			if i > 0 {
				name = "audio " + strconv.Itoa(i+1)
			}
		}
		def := "NO"
		if i == 0 {
			def = "YES"
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=%s", quote(audioGroup))
		if lang.tag != "" {
			fmt.Fprintf(&b, ",LANGUAGE=%s", quote(lang.tag))
		}
		fmt.Fprintf(&b, ",NAME=%s,DEFAULT=%s,AUTOSELECT=YES", quote(names.take(name)), def)
		if c := a.GetChannels(); c > 0 {
			fmt.Fprintf(&b, ",CHANNELS=\"%d\"", c)
		}
		fmt.Fprintf(&b, ",URI=%s\n", quote(join(a.GetDir(), p.MediaPlaylist)))
	}
	extra.audio = len(audio) > 0
	extra.subtitles = p.writeSubtitleMedia(&b)

	if len(video) == 0 && len(audio) > 0 {
		a := audio[0]
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%s", peak(a), average(a), quote(a.GetCodecs()))
		if extra.subtitles {
			fmt.Fprintf(&b, ",SUBTITLES=%s", quote(subtitleGroup))
		}
		fmt.Fprintf(&b, "\n%s\n", join(a.GetDir(), p.MediaPlaylist))
		return b.String()
	}
	for _, v := range video {
		p.writeVariant(&b, v, extra)
	}
	return b.String()
}

// variantExtras is what the renditions of the groups add to a variant.
type variantExtras struct {
	// peak and average are the largest audio bitrates, codecs the audio
	// codecs; audio says the variant refers to the audio group.
	peak, average int64
	codecs        string
	audio         bool
	// subtitles says the variant refers to the subtitle group.
	subtitles bool
}

// writeVariant writes the EXT-X-STREAM-INF of video track v and its URI.
func (p Presentation) writeVariant(b *strings.Builder, v *vodfleetv1.TrackOutput, x variantExtras) {
	fmt.Fprintf(b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d", peak(v)+x.peak, average(v)+x.average)
	fmt.Fprintf(b, ",RESOLUTION=%dx%d", v.GetWidth(), v.GetHeight())
	if fr := v.GetFrameRate(); fr > 0 {
		fmt.Fprintf(b, ",FRAME-RATE=%.3f", fr)
	}
	codecs := v.GetCodecs()
	if x.codecs != "" {
		codecs += "," + x.codecs
	}
	fmt.Fprintf(b, ",CODECS=%s", quote(strings.Trim(codecs, ",")))
	if x.audio {
		fmt.Fprintf(b, ",AUDIO=%s", quote(audioGroup))
	}
	if x.subtitles {
		fmt.Fprintf(b, ",SUBTITLES=%s", quote(subtitleGroup))
	}
	fmt.Fprintf(b, "\n%s\n", join(v.GetDir(), p.MediaPlaylist))
}

// writeSubtitleMedia writes one EXT-X-MEDIA per subtitle track, none of
// them a default (players pick by the user's language, AUTOSELECT), and
// reports whether there were any.
func (p Presentation) writeSubtitleMedia(b *strings.Builder) bool {
	names := uniqueNames{}
	for _, s := range p.Subtitles {
		lang := languageOf(s.GetLanguage())
		name := strings.TrimSpace(s.GetName())
		if name == "" {
			name = lang.name
		}
		if name == "" {
			name = "Subtitles"
		}
		fmt.Fprintf(b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=%s", quote(subtitleGroup))
		if lang.tag != "" {
			fmt.Fprintf(b, ",LANGUAGE=%s", quote(lang.tag))
		}
		fmt.Fprintf(b, ",NAME=%s,DEFAULT=NO,AUTOSELECT=YES,URI=%s\n", quote(names.take(name)), quote(p.hlsSubtitlePlaylist(s)))
	}
	return len(p.Subtitles) > 0
}

// quote makes an HLS quoted-string. It has no escapes: double quotes, line
// breaks and other control characters cannot appear, so they are replaced.
func quote(s string) string {
	return `"` + strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s) + `"`
}
