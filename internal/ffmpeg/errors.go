package ffmpeg

import "errors"

// ErrInvalidMedia means the input could not be read as media (ffprobe or
// ffmpeg rejected it). Retrying the same input will not help, so callers
// fail the job instead of retrying the task. ErrNotMedia, ErrTruncated and
// ErrUnsupportedCodec are more precise kinds of it: errors.Is matches both
// the kind and ErrInvalidMedia.
var ErrInvalidMedia = errors.New("invalid media")

// ErrNotMedia means the input is not a media file at all, or is one of the
// formats refused on user input (playlists such as HLS or DASH, concat
// lists, images): see MediaFormats.
var ErrNotMedia error = &mediaKind{"not a media file"}

// ErrTruncated means the input is a media file that ends early: an MP4
// without its index (moov atom) or a file whose data stops mid-stream,
// typically an interrupted upload or recording.
var ErrTruncated error = &mediaKind{"source file is truncated"}

// ErrUnsupportedCodec means a stream the job needs uses a codec this
// ffmpeg cannot decode (unknown to ffmpeg, or its decoder is not built in).
var ErrUnsupportedCodec error = &mediaKind{"unsupported codec"}

// ErrNoVideo means the input is readable but has no video stream (cover
// art does not count). The product only publishes video assets, so this is
// permanent too.
var ErrNoVideo = errors.New("no video stream")

// ErrFailed means ffmpeg or ffprobe exited with an error that does not prove
// the input is bad (out of disk, killed, network hiccup); a retry may work.
var ErrFailed = errors.New("ffmpeg failed")

// ErrNoSpace means ffmpeg could not write its output because the disk is
// full or the quota spent (ENOSPC, EDQUOT in its stderr). Not permanent:
// another agent, or this one once space is freed, can do the run.
var ErrNoSpace = errors.New("no space left on device")

// ErrBadPlaylist means a media playlist written by ffmpeg could not be
// parsed or is incomplete (no EXT-X-ENDLIST), usually because the encode was
// interrupted. It is not permanent: a new attempt rewrites the playlist.
var ErrBadPlaylist = errors.New("bad media playlist")

// IsPermanent reports whether err says the input itself is unusable, so the
// task must not be retried.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrInvalidMedia) || errors.Is(err, ErrNoVideo)
}

// mediaKind is a sentinel that refines ErrInvalidMedia: its text names the
// kind, and it unwraps to ErrInvalidMedia so callers that only ask "is the
// input bad?" keep working.
type mediaKind struct{ text string }

func (k *mediaKind) Error() string { return k.text }

// Unwrap returns ErrInvalidMedia.
func (k *mediaKind) Unwrap() error { return ErrInvalidMedia }

// ErrBadPreroll means a chunk encode with a preroll (Chunk.Preroll) did not
// write the preroll as its own first segment ending at the chunk start.
// It is not permanent; it would mean the keyframe or segmenting options do
// not do what this package expects of ffmpeg.
var ErrBadPreroll = errors.New("chunk preroll segment not as expected")
