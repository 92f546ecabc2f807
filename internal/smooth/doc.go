// Package smooth serves an asset's CMAF tracks as Microsoft Smooth
// Streaming (MS-SSTR) without a second encode or a second stored copy. It
// reads what the packager already publishes, the DASH MPD and each track's
// init segment, into a Presentation, which renders the Smooth client
// manifest and maps a QualityLevels(...)/Fragments(...) request to the
// stored CMAF media segment; Fragment rewrites that segment into the
// moof+mdat fragment Smooth clients expect. The edge does both on the fly
// and caches the results like any other object.
package smooth
