package manifest

import (
	"fmt"
	"strings"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Names are the file names a package task writes.
type Names struct {
	// Master and MPD are the HLS master playlist and the DASH MPD at the
	// asset root.
	Master, MPD string
	// Media is the name of each track's HLS media playlist inside its
	// directory.
	Media string
	// HDS is the path of the HDS F4M manifest; the MUX tasks' HDS
	// renditions must lie in its directory.
	HDS string
}

// Bundle is everything a package task writes and reports.
type Bundle struct {
	// Files maps paths inside the asset to their content.
	Files map[string]string
	// Mapped maps paths inside the asset to the published WebVTT file a
	// copy of which, with TimestampMap applied for the MPEG-TS variants'
	// start, must be written there (TS HLS with subtitles only).
	Mapped map[string]string
	// Result is the package task's result.
	Result *vodfleetv1.PackageResult
	// Presentation is what the manifests describe.
	Presentation Presentation
}

// Build works out what the package task of spec writes: from spec.Tracks
// (video renditions and audio tracks), spec.Outputs (unset optional fields
// take their defaults: HLS, DASH, thumbnails and subtitles on) and
// spec.Extras (the results of the THUMBNAILS, SUBTITLES and MUX tasks;
// thumbnails and subtitles that are turned off are left out; the HDS
// manifest is written when Outputs.Hds is on and MUX tasks made HDS
// renditions). HLS uses the
// MPEG-TS variants of the MUX results when Outputs.HlsSegments is TS.
//
// Errors wrap ErrNoTracks, ErrBadPath, ErrMissingTS or one of DASH's; all
// of them mean the spec is wrong.
func Build(spec *vodfleetv1.TaskSpec, n Names) (*Bundle, error) {
	out := spec.GetOutputs()
	if out == nil {
		out = &vodfleetv1.Outputs{}
	}
	hls, dash := on(out.Hls), on(out.Dash)
	p := Presentation{Tracks: spec.GetTracks(), Duration: spec.GetSourceDurationSeconds(), MediaPlaylist: n.Media}
	if len(p.Tracks) == 0 {
		return nil, ErrNoTracks
	}
	var paths []string
	for _, t := range p.Tracks {
		paths = append(paths, t.GetDir())
	}
	res := &vodfleetv1.PackageResult{}
	var ts []*vodfleetv1.TrackOutput
	var hdsMedia []*vodfleetv1.HdsMedia
	for _, x := range spec.GetExtras() {
		switch r := x.GetResult().(type) {
		case *vodfleetv1.TaskResult_Thumbnails:
			if on(out.Thumbnails) && r.Thumbnails.GetVtt() != "" {
				p.Thumbnails = r.Thumbnails
				res.Poster, res.ThumbnailsVtt = r.Thumbnails.GetPoster(), r.Thumbnails.GetVtt()
				paths = append(paths, r.Thumbnails.GetVtt(), r.Thumbnails.GetSprite())
			}
		case *vodfleetv1.TaskResult_Subtitles:
			if on(out.Subtitles) {
				for _, s := range r.Subtitles.GetTracks() {
					p.Subtitles = append(p.Subtitles, s)
					paths = append(paths, s.GetPath())
				}
			}
		case *vodfleetv1.TaskResult_Mux:
			if m := r.Mux.GetMp4(); m != "" {
				res.Mp4 = append(res.Mp4, m)
				paths = append(paths, m)
			}
			if t := r.Mux.GetTs(); len(t.GetSegments()) > 0 {
				ts = append(ts, t)
				paths = append(paths, t.GetDir())
			}
			if h := r.Mux.GetHds(); h != nil && out.GetHds() {
				hdsMedia = append(hdsMedia, h)
				paths = append(paths, h.GetBootstrap(), h.GetMedia())
			}
		}
	}
	for _, x := range paths {
		if x == "" || strings.Contains(x, "..") || strings.HasPrefix(x, "/") || strings.Contains(x, `\`) {
			return nil, fmt.Errorf("%q: %w", x, ErrBadPath)
		}
	}
	res.Subtitles = p.Subtitles
	if out.GetHlsSegments() == vodfleetv1.SegmentFormat_SEGMENT_FORMAT_TS {
		video, _ := split(p.Tracks)
		switch {
		case len(video) > 0 && len(ts) == 0:
			return nil, ErrMissingTS
		case len(video) > 0:
			p.TS = ts
		}
	}

	b := &Bundle{Files: map[string]string{}, Mapped: map[string]string{}, Result: res, Presentation: p}
	if hls {
		b.Files[n.Master] = p.HLSMaster()
		for name, body := range p.HLSMediaPlaylists() {
			b.Files[name] = body
		}
		if p.tsMode() {
			for _, s := range p.Subtitles {
				b.Mapped[p.HLSSubtitleVTT(s)] = s.GetPath()
			}
		}
		res.HlsMaster = n.Master
	}
	if dash {
		mpd, err := p.DASH()
		if err != nil {
			return nil, err
		}
		b.Files[n.MPD] = mpd
		res.DashManifest = n.MPD
	}
	if len(hdsMedia) > 0 {
		f4m, err := HDSManifest(n.HDS, hdsMedia)
		if err != nil {
			return nil, err
		}
		b.Files[n.HDS] = f4m
		res.HdsManifest = n.HDS
	}
	return b, nil
}

// on reads an optional output switch whose default is on.
func on(b *bool) bool { return b == nil || *b }
