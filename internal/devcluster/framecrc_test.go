package devcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// frame is one decoded frame as ffmpeg's framecrc muxer lists it.
type frame struct {
	stream   int
	pts, dur float64 // seconds
}

// decodeFrames decodes the streams of url that -map selects with ffmpeg
// (framecrc: one line per decoded frame) and returns every frame, plus the
// media type of each output stream by index. ffmpeg errors fail the test.
func decodeFrames(t *testing.T, url, mapArg string) ([]frame, []string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", url, "-map", mapArg, "-f", "framecrc", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", url, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("ffmpeg reported errors decoding %s:\n%s", url, s)
	}
	tb := map[int]float64{}
	var kinds []string
	var frames []frame
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		var idx, num, den int
		if _, err := fmt.Sscanf(line, "#tb %d: %d/%d", &idx, &num, &den); err == nil {
			tb[idx] = float64(num) / float64(den)
			continue
		}
		var mt string
		if _, err := fmt.Sscanf(line, "#media_type %d: %s", &idx, &mt); err == nil {
			kinds = append(kinds, mt)
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 4 {
			continue
		}
		idx, _ = strconv.Atoi(strings.TrimSpace(f[0]))
		pts, _ := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		dur, _ := strconv.ParseInt(strings.TrimSpace(f[3]), 10, 64)
		frames = append(frames, frame{stream: idx, pts: float64(pts) * tb[idx], dur: float64(dur) * tb[idx]})
	}
	return frames, kinds
}
