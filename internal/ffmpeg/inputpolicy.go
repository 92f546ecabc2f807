package ffmpeg

// MediaFormats is the -format_whitelist applied to user-supplied inputs:
// the demuxers of ordinary media containers, matched against each name of
// a demuxer's comma-separated name list ("mov,mp4,m4a,3gp,3g2,mj2" passes
// through "mp4"). Every demuxer that reads other files or URLs named
// inside its input is left out on purpose: hls, dash, concat/ffconcat,
// image2 sequences and the playlist-like formats. A .m3u8 whose segment is
// file:///etc/passwd therefore fails as "not a media file" before
// anything it names is opened.
const MediaFormats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mxf,flv,mpeg,wav,mp3,aac,ogg,flac,asf"

// InputOptions returns the input options that confine how ffmpeg or
// ffprobe opens one user-supplied input; they go right before its "-i".
//
// protocols becomes -protocol_whitelist ("file" for a local copy of the
// source); empty leaves ffmpeg's default (every protocol), which only
// tests should use. formats becomes -format_whitelist; empty means
// MediaFormats, so a caller cannot forget it: the set of acceptable
// containers does not depend on where the source came from.
//
// Both are AVFormatContext options, which ffmpeg 5.1 and ffprobe accept as
// input options; nested inputs a demuxer opens inherit them.
func InputOptions(protocols, formats string) []string {
	if formats == "" {
		formats = MediaFormats
	}
	var args []string
	if protocols != "" {
		args = append(args, "-protocol_whitelist", protocols)
	}
	return append(args, "-format_whitelist", formats)
}
