// Package manifest writes the HLS playlists and the DASH MPD of an asset
// from the tracks its encode tasks produced and the results of its
// thumbnail, subtitle and mux tasks. It is pure Go: no I/O, no ffmpeg. Both
// formats reference the same CMAF files (one init segment and numbered
// media segments per track directory), so an asset is stored once and
// served to HLS and DASH players alike; HLS may instead list the MPEG-TS
// variants remuxed from them. Subtitles are WebVTT sidecar files and the
// thumbnail sprite is described for both formats.
//
// Build turns a package task's spec into every file to write; Presentation
// holds what the manifests describe; HLSMaster, HLSMedia and DASH describe
// tracks alone.
//
// Paths: TrackOutput.Dir is relative to the asset root, where the master
// playlist and the MPD live; InitName and segment names are relative to Dir,
// where each track's media playlist lives. Subtitle, thumbnail and MP4 paths
// are relative to the asset root.
package manifest
