// Package testmedia gives tests real media: small clips generated with the
// OS's ffmpeg (lavfi testsrc2 + sine), the ffmpeg tools themselves, and a
// logger that writes to the test log. ffmpeg is a hard requirement of the
// test suite (the Makefile installs it), so a missing binary fails the test
// instead of skipping it.
package testmedia

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// Clip describes a generated test clip.
type Clip struct {
	// Size is WIDTHxHEIGHT, e.g. "320x180".
	Size string
	// Seconds is the duration.
	Seconds int
	// Rate is the frame rate; 0 means 25.
	Rate int
	// NoAudio leaves out the 440 Hz sine track.
	NoAudio bool
}

// Tools returns the ffmpeg and ffprobe paths, failing the test without them.
func Tools(t testing.TB) (ffmpeg, ffprobe string) {
	t.Helper()
	a, err1 := exec.LookPath("ffmpeg")
	b, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		t.Fatal("ffmpeg and ffprobe are required (make test installs them)")
	}
	return a, b
}

// Make writes c as an H.264 (+ AAC) MP4 into dir and returns its path.
func Make(t testing.TB, dir string, c Clip) string {
	t.Helper()
	bin, _ := Tools(t)
	rate := c.Rate
	if rate == 0 {
		rate = 25
	}
	name := "clip-" + c.Size + "-" + strconv.Itoa(c.Seconds) + "s"
	args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=" + c.Size + ":rate=" + strconv.Itoa(rate)}
	if !c.NoAudio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	} else {
		name += "-silent"
	}
	out := filepath.Join(dir, name+".mp4")
	args = append(args, "-t", strconv.Itoa(c.Seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	if !c.NoAudio {
		args = append(args, "-c:a", "aac", "-shortest")
	}
	if b, err := exec.Command(bin, append(args, out)...).CombinedOutput(); err != nil {
		t.Fatalf("generate clip %+v: %v\n%s", c, err, b)
	}
	return out
}

// Logger returns an hclog logger writing to the test log.
func Logger(t testing.TB, level hclog.Level) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: level, Output: writer{t}})
}

type writer struct{ t testing.TB }

func (w writer) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
