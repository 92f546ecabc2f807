package ffmpeg

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/hds"
)

// HDSManifestName is the F4M manifest ffmpeg's hds muxer writes in its
// output directory. MuxHDS reads it; it describes one rendition only and
// is not published (the package step writes the multi-bitrate one).
const HDSManifestName = "index.f4m"

// HDSRendition is what MuxHDS wrote for one rendition: file names are
// relative to its output directory.
type HDSRendition struct {
	// Bootstrap is the abst file, e.g. "stream0.abst".
	Bootstrap string
	// Media is the fragment prefix, e.g. "stream0".
	Media string
	// Fragments are the fragment files in order, e.g. "stream0Seg1-Frag1".
	Fragments []string
	// BitrateKbps is the bitrate the muxer put in its manifest.
	BitrateKbps int
	// Metadata is the AMF onMetaData the muxer put in its manifest.
	Metadata []byte
	// Duration is the presentation length from the bootstrap, in seconds.
	Duration float64
	// Size is the bytes of the bootstrap and the fragments.
	Size int64
}

// MuxHDS remuxes the CMAF rendition in videoDir and, when audioDir is not
// empty, the audio rendition in audioDir into Adobe HDS with ffmpeg's hds
// muxer: a bootstrap and F4F fragments (FLV tags in an mdat) in dir. Streams
// are copied, never re-encoded, so the video must be H.264 and the audio
// AAC, the codecs FLV carries. One fragment is cut per CMAF segment: the
// encodes put keyframes only on segment boundaries, so a minimum fragment
// duration of half a segment cuts at every boundary; MuxHDS checks that the
// fragment count matches.
//
// The result is read back through internal/hds, as a player would: the
// muxer's manifest, the bootstrap's fragment list, every fragment file.
//
// Errors: an empty dir or a non-positive segSeconds wraps ErrBadJob; a
// missing or incomplete CMAF playlist wraps ErrBadPlaylist; ffmpeg failures
// are those of Run; output that does not parse or does not match the CMAF
// rendition wraps ErrFailed.
func MuxHDS(ctx context.Context, log hclog.Logger, bin, videoDir, audioDir, dir string, segSeconds float64) (*HDSRendition, error) {
	if dir == "" || !(segSeconds > 0) {
		return nil, fmt.Errorf("hds: output directory %q, segment duration %v: %w", dir, segSeconds, ErrBadJob)
	}
	args, want, err := renditionInputArgs(videoDir, audioDir)
	if err != nil {
		return nil, fmt.Errorf("hds: %w", err)
	}
	args = append(args, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
		"-min_frag_duration", strconv.FormatInt(int64(segSeconds*1e6/2), 10),
		"-f", "hds", outDir(dir))
	if err := Run(ctx, log.Named("hds"), bin, args, nil); err != nil {
		return nil, err
	}
	r, err := readHDS(dir)
	if err != nil {
		return nil, fmt.Errorf("hds: %w: %w", err, ErrFailed)
	}
	if len(r.Fragments) != want {
		return nil, fmt.Errorf("hds: %d fragments, the CMAF rendition has %d segments: %w", len(r.Fragments), want, ErrFailed)
	}
	return r, nil
}

// readHDS describes the single-rendition HDS output in dir, checking the
// manifest, the bootstrap and every fragment it names.
func readHDS(dir string) (*HDSRendition, error) {
	data, err := os.ReadFile(filepath.Join(dir, HDSManifestName))
	if err != nil {
		return nil, err
	}
	m, err := hds.ParseManifest(data)
	if err != nil {
		return nil, err
	}
	if len(m.Media) != 1 {
		return nil, fmt.Errorf("%d media elements, want 1", len(m.Media))
	}
	md := m.Media[0]
	bi := m.Bootstrap(md)
	if !plainFileName(bi.URL) || !plainFileName(md.URL) {
		return nil, fmt.Errorf("bootstrap %q or media %q is not a plain file name", bi.URL, md.URL)
	}
	meta, err := base64.StdEncoding.DecodeString(md.Metadata)
	if err != nil {
		return nil, fmt.Errorf("media metadata: %w", err)
	}
	r := &HDSRendition{Bootstrap: bi.URL, Media: md.URL, BitrateKbps: md.Bitrate, Metadata: meta}
	boot, err := os.ReadFile(filepath.Join(dir, bi.URL))
	if err != nil {
		return nil, err
	}
	b, err := hds.ParseBootstrap(boot)
	if err != nil {
		return nil, err
	}
	frags, err := b.Fragments()
	if err != nil {
		return nil, err
	}
	r.Duration, r.Size = b.Duration(), int64(len(boot))
	for _, f := range frags {
		name := hds.FragmentURL(md.URL, f.Segment, f.Number)
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if _, err := hds.ParseFragment(data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.Fragments = append(r.Fragments, name)
		r.Size += int64(len(data))
	}
	return r, nil
}

// plainFileName reports whether s names a file directly inside a
// directory.
func plainFileName(s string) bool {
	return s != "" && s != "." && s != ".." && filepath.Base(s) == s && !filepath.IsAbs(s)
}
