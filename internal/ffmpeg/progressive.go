package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
)

// ProgressiveMP4 writes out, a progressive MP4 with the moov box before
// mdat (faststart, so players start before the download ends), from the
// CMAF rendition in videoDir and, when audioDir is not empty, the audio
// rendition in audioDir. Streams are copied, never re-encoded. ffmpeg reads
// each rendition through its media playlist (PlaylistName), restricted to
// local files.
//
// out is written under a temporary name and renamed when complete, so a
// failed run leaves neither a partial file nor a stale one passing as new.
//
// Errors: an empty videoDir or out wraps ErrBadJob; a missing or
// incomplete playlist wraps ErrBadPlaylist; ffmpeg failures are those of
// Run.
func ProgressiveMP4(ctx context.Context, log hclog.Logger, bin string, videoDir, audioDir, out string) error {
	if out == "" {
		return fmt.Errorf("progressive mp4: no output: %w", ErrBadJob)
	}
	args, _, err := renditionInputArgs(videoDir, audioDir)
	if err != nil {
		return fmt.Errorf("progressive mp4: %w", err)
	}
	part := outDir(out) + ".part"
	args = append(args,
		"-c", "copy",
		"-map_metadata", "-1", "-map_chapters", "-1",
		"-movflags", "+faststart",
		"-f", "mp4", part,
	)
	if err := Run(ctx, log.Named("progressive"), bin, args, nil); err != nil {
		if rmErr := os.Remove(part); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			log.Warn("cannot remove partial mp4", "error", rmErr)
		}
		return err
	}
	if err := os.Rename(part, out); err != nil {
		return fmt.Errorf("progressive mp4: %w", err)
	}
	return nil
}

// renditionInputArgs returns the global options and inputs that read the
// CMAF rendition in videoDir (input 0) and, when audioDir is not empty, the
// one in audioDir (input 1), followed by the -map options of their first
// video and audio streams. Both media playlists are checked to be complete
// first; videoSegments is the number of video segments.
func renditionInputArgs(videoDir, audioDir string) (args []string, videoSegments int, err error) {
	if videoDir == "" {
		return nil, 0, fmt.Errorf("no video rendition: %w", ErrBadJob)
	}
	if videoSegments, err = renditionSegments(videoDir); err != nil {
		return nil, 0, err
	}
	// These playlists are our own (written from our segments), so the HLS
	// demuxer is allowed here, and nothing but it and MP4 fragments.
	args = []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-progress", "pipe:1"}
	args = append(args, InputOptions("file", ownPlaylistFormats)...)
	args = append(args, "-i", outDir(videoDir)+"/"+PlaylistName)
	maps := []string{"-map", "0:v:0"}
	if audioDir != "" {
		if _, err := renditionSegments(audioDir); err != nil {
			return nil, 0, err
		}
		args = append(args, InputOptions("file", ownPlaylistFormats)...)
		args = append(args, "-i", outDir(audioDir)+"/"+PlaylistName)
		maps = append(maps, "-map", "1:a:0")
	}
	return append(args, maps...), videoSegments, nil
}

// ownPlaylistFormats are the demuxers that read a rendition directory
// vodfleet wrote: its HLS media playlist and the fMP4 segments.
const ownPlaylistFormats = "hls,mov,mp4,m4a,3gp,3g2,mj2"

// renditionSegments parses the media playlist of the rendition in dir and
// returns its number of segments.
func renditionSegments(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		return 0, fmt.Errorf("read %s: %v: %w", PlaylistName, err, ErrBadPlaylist)
	}
	_, segs, err := ParseMediaPlaylist(data)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	return len(segs), nil
}
