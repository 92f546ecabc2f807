package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/manifest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Where a MUX task's outputs go inside the asset.
const (
	// downloadDir holds the progressive MP4s, "<rendition>.mp4".
	downloadDir = "download"
	// tsDir holds one directory of MPEG-TS segments per rendition.
	tsDir = "ts"
	// hdsDir holds one directory of HDS fragments per rendition; the
	// package task writes the F4M manifest over them next to these.
	hdsDir = "hds"
	// hdsManifest is the HDS F4M manifest the package task writes.
	hdsManifest = hdsDir + "/index.f4m"
)

// downloadParallel is how many published segments a MUX task fetches at
// once: enough to hide per-request latency without hogging storage.
const downloadParallel = 4

// errNoTimestamp means an MPEG-TS segment has no PES packet with a PTS.
var errNoTimestamp = errors.New("no presentation timestamp in MPEG-TS data")

// assetRoot is the storage prefix of the lease's published asset: the
// spec's asset id when set (a reencode job changes an asset made by
// another job), else the job id (a job's own asset).
func assetRoot(run *taskRun) string {
	t := run.grant.GetTask()
	if id := t.GetSpec().GetAssetId(); id != "" {
		return "assets/" + id + "/"
	}
	return "assets/" + t.GetJobId() + "/"
}

// mux remuxes one finished rendition (all its chunks, as published) and
// the main audio, without re-encoding, into download/<rendition>.mp4
// (faststart), ts/<rendition>/ (MPEG-TS segments seg_%05d.ts and
// their playlist index.m3u8) and/or hds/<rendition>/ (HDS bootstrap and
// F4F fragments), and uploads them to staging; the leader publishes them
// at the asset root.
func (a *Agent) mux(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	m := spec.GetMux()
	video, audio := m.GetVideo(), m.GetAudio()
	name := spec.GetRendition().GetName()
	if name == "" {
		name = path.Base(video.GetDir())
	}
	switch {
	case len(video.GetSegments()) == 0:
		return nil, fmt.Errorf("mux task without video segments: %w", errPermanent)
	case !m.GetMp4() && !m.GetTs() && !m.GetHds():
		return nil, fmt.Errorf("mux task asks for neither mp4, ts nor hds: %w", errPermanent)
	case !plainName(name):
		return nil, fmt.Errorf("rendition name %q: %w", name, errPermanent)
	case (m.GetTs() || m.GetHds()) && !(spec.GetSegmentSeconds() > 0):
		return nil, fmt.Errorf("mux task without segment duration: %w", errPermanent)
	}
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return nil, err
	}

	// Fetch both tracks as CMAF renditions ffmpeg reads through a media
	// playlist (ffmpeg.PlaylistName) next to the files.
	tracks := []*v1.TrackOutput{video}
	if len(audio.GetSegments()) > 0 {
		tracks = append(tracks, audio)
	}
	var total, done atomic.Int64
	for _, t := range tracks {
		total.Add(int64(len(t.GetSegments())) + 1)
	}
	dirs := make([]string, len(tracks))
	for i, t := range tracks {
		dirs[i] = filepath.Join(run.dir, "in", strconv.Itoa(i))
		if err := fetchRendition(ctx, st, assetRoot(run), t, dirs[i], func() {
			run.setProgress(0.4*float64(done.Add(1))/float64(total.Load()), 0)
		}); err != nil {
			return nil, err
		}
	}
	videoDir, audioDir := dirs[0], ""
	if len(dirs) > 1 {
		audioDir = dirs[1]
	}

	out := filepath.Join(run.dir, "out")
	res := &v1.MuxOutput{Rendition: name}
	var names []string
	if m.GetMp4() {
		rel := path.Join(downloadDir, name+".mp4")
		p := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("output dir: %w", err)
		}
		if err := ffmpeg.ProgressiveMP4(ctx, run.log, a.cfg.FFmpeg, videoDir, audioDir, p); err != nil {
			return nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("mp4: %w", err)
		}
		res.Mp4, res.Mp4Size = rel, fi.Size()
		names = append(names, rel)
		run.setProgress(0.65, 0)
	}
	if m.GetTs() {
		rel := path.Join(tsDir, name)
		dir := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("output dir: %w", err)
		}
		if err := ffmpeg.MuxTS(ctx, run.log, a.cfg.FFmpeg, videoDir, audioDir, dir, spec.GetSegmentSeconds()); err != nil {
			return nil, err
		}
		ts, err := tsTrack(dir, video, audio, audioDir != "")
		if err != nil {
			return nil, err
		}
		ts.Dir = rel
		names = append(names, path.Join(rel, ffmpeg.PlaylistName))
		for _, s := range ts.GetSegments() {
			names = append(names, path.Join(rel, s.GetName()))
		}
		res.Ts = ts
		run.setProgress(0.8, 0)
	}
	if m.GetHds() {
		h, files, err := a.muxHDS(ctx, run, videoDir, audioDir, out, name, video)
		if err != nil {
			return nil, err
		}
		res.Hds = h
		names = append(names, files...)
		run.setProgress(0.9, 0)
	}
	if err := a.upload(ctx, run, out, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Mux{Mux: res}}, nil
}

// fetchRendition downloads the init segment and the media segments of the
// published track t (under asset+t.Dir) into dir and writes the media
// playlist ffmpeg reads them through. Segments without a name get the
// encoder's name numbered from t.FirstSegment. tick is called after each
// file.
func fetchRendition(ctx context.Context, st *storage.Client, asset string, t *v1.TrackOutput, dir string, tick func()) error {
	local := &v1.TrackOutput{InitName: t.GetInitName()}
	if local.InitName == "" {
		local.InitName = ffmpeg.InitName
	}
	first := int(t.GetFirstSegment())
	if first == 0 {
		first = ffmpeg.FirstSegmentNumber
	}
	names := []string{local.InitName}
	for i, s := range t.GetSegments() {
		n := s.GetName()
		if n == "" {
			n = fmt.Sprintf(ffmpeg.SegmentPattern, first+i)
		}
		local.Segments = append(local.Segments, &v1.Segment{Name: n, DurationSeconds: s.GetDurationSeconds()})
		names = append(names, n)
	}
	for _, n := range names {
		if !plainName(n) {
			return fmt.Errorf("track %q: file name %q: %w", t.GetDir(), n, errPermanent)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(downloadParallel)
	for _, n := range names {
		g.Go(func() error {
			obj := asset + path.Join(t.GetDir(), n)
			if err := st.GetToFile(gctx, obj, filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("fetch %s: %w", obj, err)
			}
			tick()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	pl := manifest.HLSMedia(local)
	if err := os.WriteFile(filepath.Join(dir, ffmpeg.PlaylistName), []byte(pl), 0o644); err != nil {
		return fmt.Errorf("write playlist: %w", err)
	}
	return nil
}

// tsTrack describes the MPEG-TS variant MuxTS wrote in dir: its segments
// (from the playlist, sizes from the files), measured bitrates, the codecs
// of the video and, when muxed in, the audio, and the picture of the video.
func tsTrack(dir string, video, audio *v1.TrackOutput, withAudio bool) (*v1.TrackOutput, error) {
	data, err := os.ReadFile(filepath.Join(dir, ffmpeg.PlaylistName))
	if err != nil {
		return nil, fmt.Errorf("mpeg-ts playlist: %w", err)
	}
	segs, err := parseTSPlaylist(data)
	if err != nil {
		return nil, err
	}
	t := &v1.TrackOutput{
		Segments: segs, Codecs: video.GetCodecs(), FirstSegment: ffmpeg.FirstSegmentNumber,
		Width: video.GetWidth(), Height: video.GetHeight(), FrameRate: video.GetFrameRate(),
	}
	if withAudio {
		t.Codecs = strings.Trim(t.Codecs+","+audio.GetCodecs(), ",")
		t.Language = audio.GetLanguage()
	}
	if err := measureSegments(dir, t); err != nil {
		return nil, err
	}
	return t, nil
}

// parseTSPlaylist reads the segments of the VOD media playlist MuxTS
// writes (no EXT-X-MAP, unlike what ffmpeg.ParseMediaPlaylist accepts).
func parseTSPlaylist(data []byte) ([]*v1.Segment, error) {
	var segs []*v1.Segment
	pending, ended := -1.0, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(d > 0) {
				return nil, fmt.Errorf("mpeg-ts playlist: EXTINF %q: %w", v, ffmpeg.ErrBadPlaylist)
			}
			pending = d
		case line == "#EXT-X-ENDLIST":
			ended = true
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			if pending < 0 || !plainName(line) {
				return nil, fmt.Errorf("mpeg-ts playlist: segment %q: %w", line, ffmpeg.ErrBadPlaylist)
			}
			segs = append(segs, &v1.Segment{Name: line, DurationSeconds: pending})
			pending = -1
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mpeg-ts playlist: %w", err)
	}
	if !ended || len(segs) == 0 {
		return nil, fmt.Errorf("mpeg-ts playlist incomplete: %w", ffmpeg.ErrBadPlaylist)
	}
	return segs, nil
}

// plainName reports whether s is a plain file name, safe to join to a
// directory.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`) && !strings.Contains(s, "..")
}

// tsFirstPTS returns the presentation timestamp (90 kHz) of the first
// video PES packet of MPEG-TS data, or of the first PES packet of any
// stream when there is no video. Only the start of a segment is needed.
func tsFirstPTS(data []byte) (int64, error) {
	const packet = 188
	other := int64(-1)
	for off := 0; off+packet <= len(data); off += packet {
		p := data[off : off+packet]
		if p[0] != 0x47 || p[1]&0x40 == 0 { // sync byte; payload unit start
			continue
		}
		start := 4
		switch p[3] >> 4 & 3 {
		case 1:
		case 3:
			start = 5 + int(p[4])
		default:
			continue // no payload
		}
		pes := p[min(start, packet):]
		if len(pes) < 14 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || pes[7]&0x80 == 0 {
			continue // not a PES header with a PTS
		}
		pts := int64(pes[9]>>1&7)<<30 | int64(pes[10])<<22 | int64(pes[11]>>1)<<15 | int64(pes[12])<<7 | int64(pes[13]>>1)
		if sid := pes[3]; sid >= 0xE0 && sid <= 0xEF {
			return pts, nil
		}
		if other < 0 {
			other = pts
		}
	}
	if other >= 0 {
		return other, nil
	}
	return 0, errNoTimestamp
}

// muxHDS remuxes the fetched rendition into hds/<name>/ under out and
// returns its description for the package task and the files to upload
// (the bootstrap and the fragments, relative to out; the muxer's own
// single-rendition manifest is left out).
func (a *Agent) muxHDS(ctx context.Context, run *taskRun, videoDir, audioDir, out, name string, video *v1.TrackOutput) (*v1.HdsMedia, []string, error) {
	rel := path.Join(hdsDir, name)
	dir := filepath.Join(out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, nil, fmt.Errorf("output dir: %w", err)
	}
	r, err := ffmpeg.MuxHDS(ctx, run.log, a.cfg.FFmpeg, videoDir, audioDir, dir, run.grant.GetTask().GetSpec().GetSegmentSeconds())
	if err != nil {
		return nil, nil, err
	}
	files := []string{path.Join(rel, r.Bootstrap)}
	for _, f := range r.Fragments {
		files = append(files, path.Join(rel, f))
	}
	return &v1.HdsMedia{
		Bootstrap: path.Join(rel, r.Bootstrap), Media: path.Join(rel, r.Media),
		BitrateKbps: int32(r.BitrateKbps), Metadata: r.Metadata, DurationSeconds: r.Duration,
		Fragments: int32(len(r.Fragments)), SizeBytes: r.Size,
		Width: video.GetWidth(), Height: video.GetHeight(),
	}, files, nil
}
