package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// TSSegmentPattern is the printf pattern of the MPEG-TS segment names MuxTS
// writes next to its PlaylistName; numbering starts at FirstSegmentNumber,
// like the CMAF segments.
const TSSegmentPattern = "seg_%05d.ts"

// MuxTS remuxes the CMAF rendition in videoDir and, when audioDir is not
// empty, the audio rendition in audioDir into MPEG-TS HLS segments
// (TSSegmentPattern) and a VOD media playlist (PlaylistName) in dir, which
// must exist. Streams are copied, never re-encoded, for players that
// cannot play fMP4 HLS.
//
// segSeconds must be the rendition's segment duration: the encodes force a
// keyframe at every multiple of it, so cutting at the first keyframe at or
// after each multiple reproduces the CMAF segment boundaries exactly. MuxTS
// checks that the segment counts agree.
//
// Errors: an empty videoDir or dir or a non-positive segSeconds wraps
// ErrBadJob; a missing or incomplete CMAF playlist wraps ErrBadPlaylist;
// ffmpeg failures are those of Run; a TS playlist that does not match the
// CMAF one wraps ErrFailed.
func MuxTS(ctx context.Context, log hclog.Logger, bin, videoDir, audioDir, dir string, segSeconds float64) error {
	if dir == "" || !(segSeconds > 0) {
		return fmt.Errorf("mpeg-ts: output directory %q, segment duration %v: %w", dir, segSeconds, ErrBadJob)
	}
	args, want, err := renditionInputArgs(videoDir, audioDir)
	if err != nil {
		return fmt.Errorf("mpeg-ts: %w", err)
	}
	args = append(args, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1")
	args = append(args, tsOutputArgs(dir, num(segSeconds))...)
	if err := Run(ctx, log.Named("mpegts"), bin, args, nil); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		return fmt.Errorf("mpeg-ts: read %s: %v: %w", PlaylistName, err, ErrFailed)
	}
	if got := playlistURIs(data); got != want {
		return fmt.Errorf("mpeg-ts: %d segments, the CMAF rendition has %d: %w", got, want, ErrFailed)
	}
	return nil
}

// tsOutputArgs writes MPEG-TS segments and a VOD media playlist to dir,
// cutting at the first keyframe at or after every multiple of seg.
func tsOutputArgs(dir, seg string) []string {
	dir = outDir(dir)
	return []string{
		"-f", "hls",
		"-hls_segment_type", "mpegts",
		"-hls_segment_filename", strings.ReplaceAll(dir, "%", "%%") + "/" + TSSegmentPattern,
		"-start_number", itoa(FirstSegmentNumber),
		"-hls_time", seg,
		"-hls_list_size", "0",
		"-hls_playlist_type", "vod",
		"-hls_flags", "independent_segments",
		dir + "/" + PlaylistName,
	}
}

// playlistURIs counts the URI lines (segments) of a media playlist.
func playlistURIs(data []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}
