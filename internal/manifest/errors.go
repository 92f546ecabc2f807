package manifest

import "errors"

// ErrNoTracks means there is nothing to describe: no video or audio track.
var ErrNoTracks = errors.New("no tracks")

// ErrNoSegments means a track has no media segments.
var ErrNoSegments = errors.New("track has no segments")

// ErrSegmentNames means a track's segment names do not follow one numbered
// pattern with consecutive numbers, so a DASH SegmentTemplate cannot
// address the same files the HLS playlist lists.
var ErrSegmentNames = errors.New("segment names are not consecutive numbers")

// ErrInvalidTrack means a track cannot be described: it has no init
// segment or a segment without a positive duration.
var ErrInvalidTrack = errors.New("invalid track")

// ErrMissingTS means MPEG-TS HLS was asked for an asset with video but no
// MPEG-TS variant was made (no MUX task result).
var ErrMissingTS = errors.New("no MPEG-TS variants")

// ErrBadPath means a path inside the asset is empty, absolute or leaves the
// asset ("..").
var ErrBadPath = errors.New("invalid path inside the asset")

// ErrBadWebVTT means a subtitle file does not start with the WEBVTT
// signature.
var ErrBadWebVTT = errors.New("not a WebVTT file")
