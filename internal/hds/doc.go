// Package hds reads and writes the pieces of Adobe HTTP Dynamic Streaming
// that vodfleet's legacy HDS output is made of: the F4M manifest (XML),
// the bootstrap (an abst box with its segment-run and fragment-run tables,
// which is how a player learns the fragment names and times) and the F4F
// fragments (an mdat box of FLV tags, as ffmpeg's hds muxer writes them).
//
// The agent uses it to check what ffmpeg wrote and to describe each
// rendition, the package step to write the multi-bitrate manifest, and the
// tests to play the output back the way a Flash-era player would: parse
// the manifest, decode the bootstrap, fetch every fragment it names.
package hds
