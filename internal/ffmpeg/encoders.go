package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// KnownEncoders are the encoders agents advertise as capability labels
// ("encoder.NAME" = "true") when their ffmpeg has them: the ones a ladder
// can ask for, software and hardware. Agents announce a hardware one only
// for the path they were told to use (HWAccel) and after a test encode
// with it worked (see the agent's capability probe).
var KnownEncoders = []string{
	"libx264", "libx265", "libsvtav1", "libaom-av1", "aac", "libopus", "libfdk_aac",
	"h264_nvenc", "hevc_nvenc", "av1_nvenc", "h264_qsv", "hevc_qsv", "h264_vaapi", "hevc_vaapi",
}

// Encoders runs `ffmpeg -encoders` and returns the names it lists.
func Encoders(ctx context.Context, bin string) (map[string]bool, error) {
	out, err := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-encoders").Output()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg -encoders: %w: %w", err, ErrFailed)
	}
	return ParseEncoders(out), nil
}

// ParseEncoders parses `ffmpeg -encoders` output: a legend, a line of
// dashes, then one " FLAGS name description" line per encoder.
func ParseEncoders(out []byte) map[string]bool {
	names := map[string]bool{}
	listing := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "---") {
			listing = true
			continue
		}
		f := strings.Fields(line)
		if listing && len(f) >= 2 && len(f[0]) == 6 {
			names[f[1]] = true
		}
	}
	return names
}
