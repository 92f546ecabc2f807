package smooth

import "errors"

// Sentinel errors, wrapped with %w. The edge maps them to HTTP statuses in
// one place: ErrNoFragment and ErrUnsupported mean the request names
// nothing Smooth can serve (404); the others mean stored data the
// packager wrote is not what this package understands (502).
var (
	// ErrBadMPD means the DASH manifest cannot be read as the packager's
	// static SegmentTemplate/SegmentTimeline MPD.
	ErrBadMPD = errors.New("smooth: unreadable mpd")
	// ErrBadInit means an init segment lacks a box the manifest needs
	// (mdhd, stsd, avcC or esds).
	ErrBadInit = errors.New("smooth: unreadable init segment")
	// ErrBadSegment means a media segment is not one CMAF fragment
	// (moof with one traf holding tfhd, tfdt and trun, then mdat).
	ErrBadSegment = errors.New("smooth: unreadable media segment")
	// ErrUnsupported means the asset has no track Smooth can describe
	// (H.264 video or AAC audio).
	ErrUnsupported = errors.New("smooth: no track smooth streaming can carry")
	// ErrNoFragment means a fragment request names no stream, quality
	// level or start time of the manifest.
	ErrNoFragment = errors.New("smooth: no such fragment")
)
