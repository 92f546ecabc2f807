package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// SubtitleStream is one subtitle stream of a source, as ffprobe lists it.
type SubtitleStream struct {
	// Index is the absolute stream index in the input (ffprobe's "index",
	// not the position among subtitle streams).
	Index int
	// Codec is ffprobe's codec_name, e.g. "subrip" or "hdmv_pgs_subtitle".
	Codec string
	// Language is the stream's language tag (ISO 639-2, e.g. "fra"); empty
	// or "und" when unknown.
	Language string
}

// SubtitleOutput reports what ExtractSubtitles did with one stream.
type SubtitleOutput struct {
	// Index is SubtitleStream.Index.
	Index int
	// Language is SubtitleStream.Language, for the manifest.
	Language string
	// Name is the WebVTT file written inside the output directory,
	// "sub_<language>.vtt" or "sub_<index>.vtt"; empty when skipped.
	Name string
	// Skipped says why the stream was not converted (a bitmap format needs
	// OCR, which the fleet does not do); empty when Name is set.
	Skipped string
}

// textSubtitleCodecs are the ffprobe codec names ffmpeg can decode to text
// and re-encode as WebVTT.
var textSubtitleCodecs = map[string]bool{
	"subrip": true, "srt": true, "ass": true, "ssa": true, "mov_text": true, "webvtt": true, "text": true,
}

// bitmapSubtitleCodecs are image-based subtitle formats; turning them into
// text would take OCR.
var bitmapSubtitleCodecs = map[string]bool{
	"hdmv_pgs_subtitle": true, "dvd_subtitle": true, "dvb_subtitle": true, "xsub": true,
}

// TextSubtitleCodec reports whether ffprobe codec name codec is a text
// subtitle format ExtractSubtitles converts to WebVTT.
func TextSubtitleCodec(codec string) bool { return textSubtitleCodecs[codec] }

// ExtractSubtitles converts every text subtitle stream of input to a WebVTT
// file in dir (which must exist) in one ffmpeg run, and returns one
// SubtitleOutput per stream, in order. Bitmap and unknown formats are
// skipped with a reason. Cue times are on the same zero-based timeline as
// the video and audio encodes (see the package comment).
//
// Errors: a negative or repeated index, or an empty input or dir, wraps
// ErrBadJob; ffmpeg failures are those of Run, after which no partial
// WebVTT file is left behind.
func ExtractSubtitles(ctx context.Context, log hclog.Logger, bin, input, whitelist, dir string, streams []SubtitleStream) ([]SubtitleOutput, error) {
	if input == "" || dir == "" {
		return nil, fmt.Errorf("subtitles: no input or output directory: %w", ErrBadJob)
	}
	outs := make([]SubtitleOutput, len(streams))
	seen := map[int]bool{}
	used := map[string]bool{}
	var args, written []string
	dst := outDir(dir)
	for i, s := range streams {
		if s.Index < 0 || seen[s.Index] {
			return nil, fmt.Errorf("subtitles: stream index %d negative or repeated: %w", s.Index, ErrBadJob)
		}
		seen[s.Index] = true
		outs[i] = SubtitleOutput{Index: s.Index, Language: s.Language}
		switch {
		case bitmapSubtitleCodecs[s.Codec]:
			outs[i].Skipped = "bitmap subtitle format " + s.Codec + " cannot be converted to text"
			continue
		case !TextSubtitleCodec(s.Codec):
			outs[i].Skipped = "unsupported subtitle format " + strconv.Quote(s.Codec)
			continue
		}
		name := subtitleName(s, used)
		used[name] = true
		outs[i].Name = name
		written = append(written, dst+"/"+name)
		args = append(args, "-map", "0:"+itoa(int64(s.Index)), "-c:s", "webvtt", "-f", "webvtt", dst+"/"+name)
	}
	if len(args) == 0 {
		return outs, nil
	}
	all := inputArgs(input, whitelist)
	all = append(all, args...)
	// Keep the audio and video streams enabled (see hlsOutputArgs) so
	// ffmpeg subtracts the same start time as the encodes do.
	all = append(all, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "null", "-")
	if err := Run(ctx, log.Named("subtitles"), bin, all, nil); err != nil {
		for _, f := range written {
			if rmErr := os.Remove(f); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				log.Warn("cannot remove partial subtitle file", "error", rmErr)
			}
		}
		return nil, err
	}
	return outs, nil
}

// subtitleName returns "sub_<language>.vtt", or "sub_<index>.vtt" when the
// language is unknown or not a plain tag, with "_<index>" added when
// another stream already took the name.
func subtitleName(s SubtitleStream, used map[string]bool) string {
	lang := strings.ToLower(strings.TrimSpace(s.Language))
	if lang == "und" || !plainTag(lang) {
		lang = ""
	}
	idx := itoa(int64(s.Index))
	switch name := "sub_" + lang + ".vtt"; {
	case lang == "":
		return "sub_" + idx + ".vtt"
	case used[name]:
		return "sub_" + lang + "_" + idx + ".vtt"
	default:
		return name
	}
}

// plainTag reports whether s is a language tag of lowercase ASCII letters,
// digits and hyphens starting with a letter (BCP 47 shape): safe inside a
// file name and never equal to a stream index.
func plainTag(s string) bool {
	if s == "" || len(s) > 35 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
