// Package manifest writes the HLS playlists and the DASH MPD of an asset
// from the tracks its encode tasks produced. It is pure Go: no I/O, no
// ffmpeg. Both formats reference the same CMAF files (one init segment and
// numbered media segments per track directory), so an asset is stored once
// and served to HLS and DASH players alike.
//
// Paths: TrackOutput.Dir is relative to the asset root, where the master
// playlist and the MPD live; InitName and segment names are relative to Dir,
// where each track's media playlist lives.
package manifest
