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

// audioGroup is the GROUP-ID of the audio renditions in the master.
const audioGroup = "audio"

// HLSMedia returns the VOD media playlist of one track. It is meant to be
// stored in the track directory, so URIs are the bare InitName and segment
// names. TARGETDURATION is the longest segment rounded up, which satisfies
// the rule that every EXTINF rounded to the nearest integer is at most it.
func HLSMedia(t *vodfleetv1.TrackOutput) string {
	var b strings.Builder
	target := int(math.Ceil(maxSegment(t) - 1e-6))
	if target < 1 {
		target = 1
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n", hlsVersion)
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", target)
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", t.GetInitName())
	for _, s := range t.GetSegments() {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", s.GetDurationSeconds(), s.GetName())
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// HLSMaster returns the master playlist of an asset. Each track's media
// playlist is expected at Dir/mediaPlaylistName (e.g. "v720p/media.m3u8").
//
// Audio tracks form one EXT-X-MEDIA group "audio" (the first is the
// default). Each video track becomes an EXT-X-STREAM-INF, highest bandwidth
// first, whose BANDWIDTH is its peak plus the largest audio peak and whose
// AVERAGE-BANDWIDTH is its average plus the largest audio average, as the
// HLS spec counts every rendition a variant may play. An asset with audio
// only gets one variant pointing at the audio playlist.
func HLSMaster(tracks []*vodfleetv1.TrackOutput, mediaPlaylistName string) string {
	video, audio := split(tracks)
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", hlsVersion)

	var audioPeak, audioAvg int64
	audioCodecs := ""
	for i, a := range audio {
		audioPeak = max(audioPeak, peak(a))
		audioAvg = max(audioAvg, average(a))
		if audioCodecs == "" {
			audioCodecs = a.GetCodecs()
		}
		name := "audio"
		if i > 0 {
			name = "audio " + strconv.Itoa(i+1)
		}
		def := "NO"
		if i == 0 {
			def = "YES"
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=%q,NAME=%q,DEFAULT=%s,AUTOSELECT=YES", audioGroup, name, def)
		if c := a.GetChannels(); c > 0 {
			fmt.Fprintf(&b, ",CHANNELS=\"%d\"", c)
		}
		fmt.Fprintf(&b, ",URI=%q\n", join(a.GetDir(), mediaPlaylistName))
	}

	if len(video) == 0 && len(audio) > 0 {
		a := audio[0]
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%q\n%s\n",
			peak(a), average(a), a.GetCodecs(), join(a.GetDir(), mediaPlaylistName))
		return b.String()
	}
	for _, v := range video {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d", peak(v)+audioPeak, average(v)+audioAvg)
		fmt.Fprintf(&b, ",RESOLUTION=%dx%d", v.GetWidth(), v.GetHeight())
		if fr := v.GetFrameRate(); fr > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", fr)
		}
		codecs := v.GetCodecs()
		if audioCodecs != "" {
			codecs += "," + audioCodecs
		}
		fmt.Fprintf(&b, ",CODECS=%q", strings.Trim(codecs, ","))
		if len(audio) > 0 {
			fmt.Fprintf(&b, ",AUDIO=%q", audioGroup)
		}
		fmt.Fprintf(&b, "\n%s\n", join(v.GetDir(), mediaPlaylistName))
	}
	return b.String()
}
