package ffmpeg

import "errors"

// ErrInvalidMedia means the input could not be read as media (ffprobe or
// ffmpeg rejected it). Retrying the same input will not help, so callers
// fail the job instead of retrying the task.
var ErrInvalidMedia = errors.New("invalid media")

// ErrNoVideo means the input is readable but has no video stream (cover
// art does not count). The product only publishes video assets, so this is
// permanent too.
var ErrNoVideo = errors.New("no video stream")

// ErrFailed means ffmpeg or ffprobe exited with an error that does not prove
// the input is bad (out of disk, killed, network hiccup); a retry may work.
var ErrFailed = errors.New("ffmpeg failed")

// ErrBadPlaylist means a media playlist written by ffmpeg could not be
// parsed or is incomplete (no EXT-X-ENDLIST), usually because the encode was
// interrupted. It is not permanent: a new attempt rewrites the playlist.
var ErrBadPlaylist = errors.New("bad media playlist")

// IsPermanent reports whether err says the input itself is unusable, so the
// task must not be retried.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrInvalidMedia) || errors.Is(err, ErrNoVideo)
}
