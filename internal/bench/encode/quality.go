package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// quality is what the bench measures of one rendition.
type quality struct {
	// width, height and frames are probed from the rendition.
	width, height, frames int
	// kbps is the video bitrate: segment bytes * 8 / playlist duration
	// (initialization segments excluded).
	kbps float64
	// seconds is the playlist duration.
	seconds float64
	// psnr is ffmpeg's psnr "average" (Y, U and V weighted by plane size),
	// psnrY the luma PSNR, ssim ffmpeg's ssim "All", all against the source
	// scaled to the rendition size.
	psnr, psnrY, ssim float64
	// psnrMin is the lowest per-frame PSNR (Y,U,V average).
	psnrMin float64
	// badSegments lists the segments (numbered from 1, by frame index)
	// holding frames more than badFrameDB below the median frame PSNR:
	// a chunk boundary or a segment gone wrong, not rate control.
	badSegments []int
}

// badFrameDB is how far below the median frame a frame must fall to be
// reported.
const badFrameDB = 6

// playlistIn returns the media playlist of a rendition directory: vodfleet
// names it media.m3u8 (as served), ffmpeg's own output index.m3u8.
func playlistIn(dir string) (string, error) {
	for _, n := range []string{"media.m3u8", "index.m3u8"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no media playlist in %s", dir)
}

// bitrate sums the sizes of the segments a playlist lists.
func bitrate(pl string) (kbps, seconds float64, err error) {
	data, err := os.ReadFile(pl)
	if err != nil {
		return 0, 0, err
	}
	p, err := parseMedia(data)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", pl, err)
	}
	var bytes int64
	for _, s := range p.segments {
		rel, err := safeRel(s)
		if err != nil {
			return 0, 0, err
		}
		fi, err := os.Stat(filepath.Join(filepath.Dir(pl), filepath.FromSlash(rel)))
		if err != nil {
			return 0, 0, err
		}
		bytes += fi.Size()
	}
	if p.seconds <= 0 {
		return 0, 0, fmt.Errorf("%s: zero duration", pl)
	}
	return float64(bytes) * 8 / p.seconds / 1000, p.seconds, nil
}

// probeVideo returns the size and packet count of the first video stream.
func probeVideo(input string) (w, h, frames int, err error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
		"-show_entries", "stream=width,height,nb_read_packets", "-of", "default=nw=1", input).Output()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("ffprobe %s: %w", input, err)
	}
	vals := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if n, err := strconv.Atoi(v); ok && err == nil {
			vals[k] = n
		}
	}
	if vals["width"] == 0 || vals["height"] == 0 {
		return 0, 0, 0, fmt.Errorf("ffprobe %s: no video size in %q", input, out)
	}
	return vals["width"], vals["height"], vals["nb_read_packets"], nil
}

var (
	psnrRE = regexp.MustCompile(`PSNR y:([0-9.inf]+) u:[0-9.inf]+ v:[0-9.inf]+ average:([0-9.inf]+) min:([0-9.inf]+)`)
	ssimRE = regexp.MustCompile(`SSIM Y:[0-9.]+ \([0-9.inf]+\) U:.* All:([0-9.]+)`)
)

// measure computes bitrate, PSNR and SSIM of the rendition in dir against
// src. Frames are paired by index (both timelines rebuilt as N/fps), so a
// dropped or duplicated frame shows as a quality loss instead of being
// papered over by timestamp matching. The reference is the source scaled
// with ffmpeg's default (bicubic) scaler, as the encodes do, so the figures
// measure the encode alone.
func measure(dir, src, fps string, segSeconds float64) (*quality, error) {
	pl, err := playlistIn(dir)
	if err != nil {
		return nil, err
	}
	q := &quality{}
	if q.kbps, q.seconds, err = bitrate(pl); err != nil {
		return nil, err
	}
	if q.width, q.height, q.frames, err = probeVideo(pl); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "bench-encode-psnr")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	stats := filepath.Join(tmp, "psnr.log")
	pts := "settb=AVTB,setpts=N/((" + fps + ")*TB)"
	graph := fmt.Sprintf("[0:v]%s[d];[1:v]scale=%d:%d,setsar=1,%s,split[r1][r2];[d][r1]psnr=stats_file=%s[p];[p][r2]ssim[o]",
		pts, q.width, q.height, pts, stats)
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "info",
		"-i", pl, "-i", src, "-filter_complex", graph, "-map", "[o]", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg psnr/ssim of %s: %w: %s", pl, err, tail(stderr.String()))
	}
	m := psnrRE.FindStringSubmatch(stderr.String())
	s := ssimRE.FindStringSubmatch(stderr.String())
	if m == nil || s == nil {
		return nil, fmt.Errorf("no psnr/ssim summary for %s: %s", pl, tail(stderr.String()))
	}
	q.psnrY = parseDB(m[1])
	q.psnr = parseDB(m[2])
	q.psnrMin = parseDB(m[3])
	q.ssim, _ = strconv.ParseFloat(s[1], 64)
	if q.badSegments, err = badSegments(stats, fps, segSeconds); err != nil {
		return nil, err
	}
	return q, nil
}

// badSegments reads a psnr stats_file (one line per frame, "n:1 ...
// psnr_avg:42.1 ...") and returns the segments with frames more than
// badFrameDB below the median.
func badSegments(stats, fps string, segSeconds float64) ([]int, error) {
	data, err := os.ReadFile(stats)
	if err != nil {
		return nil, err
	}
	var vals []float64
	for _, line := range strings.Split(string(data), "\n") {
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "psnr_avg:"); ok {
				vals = append(vals, parseDB(v))
			}
		}
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%s: no frames", stats)
	}
	sorted := append([]float64(nil), vals...)
	sort.Float64s(sorted)
	median := sorted[len(sorted)/2]
	rate := parseRate(fps)
	var segs []int
	for i, v := range vals {
		if v >= median-badFrameDB {
			continue
		}
		seg := int(float64(i)/rate/segSeconds) + 1
		if len(segs) == 0 || segs[len(segs)-1] != seg {
			segs = append(segs, seg)
		}
	}
	return segs, nil
}

// parseRate reads "30" or "30000/1001".
func parseRate(s string) float64 {
	n, d, ok := strings.Cut(s, "/")
	num, _ := strconv.ParseFloat(n, 64)
	if !ok {
		return num
	}
	den, _ := strconv.ParseFloat(d, 64)
	if den == 0 {
		return num
	}
	return num / den
}

func parseDB(s string) float64 {
	if s == "inf" {
		return 99
	}
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}
