package ffmpeg

import (
	"strconv"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// probeStreamIndex is the absolute stream index ffprobe reports.
type probeStreamIndex struct {
	Index      int32  `json:"index"`
	Channels   int32  `json:"channels"`
	SampleRate string `json:"sample_rate"`
	PixFmt     string `json:"pix_fmt"`
}

// collectStreams fills the audio and subtitle stream lists of res from the
// probe output, in source order. Audio streams are numbered among audio
// streams (what "-map 0:a:N" selects); subtitle streams keep their absolute
// index (what "-map 0:N" selects).
func collectStreams(res *vodfleetv1.ProbeResult, streams []probeStream, extra []probeStreamIndex) {
	var audio int32
	for i := range streams {
		s := &streams[i]
		var x probeStreamIndex
		if i < len(extra) {
			x = extra[i]
		}
		switch s.CodecType {
		case "video":
			if res.PixelFormat == "" && s.Disposition["attached_pic"] == 0 {
				res.PixelFormat = x.PixFmt
			}
		case "audio":
			sr, _ := strconv.Atoi(x.SampleRate)
			res.AudioStreams = append(res.AudioStreams, &vodfleetv1.AudioStream{
				Index:      audio,
				Codec:      s.CodecName,
				Language:   language(s.Tags),
				Channels:   x.Channels,
				SampleRate: int32(sr),
				Title:      s.Tags["title"],
			})
			audio++
		case "subtitle":
			res.SubtitleStreams = append(res.SubtitleStreams, &vodfleetv1.SubtitleStream{
				Index:    x.Index,
				Codec:    s.CodecName,
				Language: language(s.Tags),
				Title:    s.Tags["title"],
			})
		}
	}
}

// language returns the stream's language tag, empty for "und".
func language(tags map[string]string) string {
	l := tags["language"]
	if l == "und" {
		return ""
	}
	return l
}
