package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vodfleet/vodfleet/internal/testmedia"
)

// tsPlaylist returns the segment names and EXTINF durations of an MPEG-TS
// media playlist (ParseMediaPlaylist wants an EXT-X-MAP, which TS lacks).
func tsPlaylist(t *testing.T, path string) (names []string, durations []float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	ended := false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(l, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("EXTINF %q", l)
			}
			durations = append(durations, d)
		case l == "#EXT-X-ENDLIST":
			ended = true
		case l != "" && !strings.HasPrefix(l, "#"):
			names = append(names, l)
		}
	}
	if !ended || len(names) != len(durations) {
		t.Fatalf("playlist: ended %v, %d names, %d durations", ended, len(names), len(durations))
	}
	return names, durations
}

func TestMuxTS(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	src, videoDir, audioDir := cmafRenditions(t)
	want := probeMedia(t, src).seconds(t)
	pl, err := os.ReadFile(filepath.Join(videoDir, PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	_, cmaf, err := ParseMediaPlaylist(pl)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := testmedia.Logger(t, hclog.Debug)

	for _, tc := range []struct {
		name  string
		audio string
	}{{"av", audioDir}, {"video-only", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			if err := MuxTS(ctx, log, bin, videoDir, tc.audio, out, 2); err != nil {
				t.Fatal(err)
			}
			names, durs := tsPlaylist(t, filepath.Join(out, PlaylistName))
			if len(names) != len(cmaf) {
				t.Fatalf("%d TS segments, %d CMAF segments", len(names), len(cmaf))
			}
			var total float64
			for i, name := range names {
				if wantName := "seg_0000" + strconv.Itoa(i+1) + ".ts"; name != wantName {
					t.Errorf("segment %d is %q, want %q", i, name, wantName)
				}
				if math.Abs(durs[i]-cmaf[i].GetDurationSeconds()) > 0.01 {
					t.Errorf("segment %d lasts %v, CMAF %v", i, durs[i], cmaf[i].GetDurationSeconds())
				}
				total += durs[i]
				m := probeMedia(t, filepath.Join(out, name))
				if !strings.Contains(m.Format.FormatName, "mpegts") || m.count("video") != 1 {
					t.Errorf("%s: format %q streams %+v", name, m.Format.FormatName, m.Streams)
				}
				if wantAudio := min(1, len(tc.audio)); m.count("audio") != wantAudio {
					t.Errorf("%s: %d audio streams, want %d", name, m.count("audio"), wantAudio)
				}
			}
			if math.Abs(total-want) > 0.2 {
				t.Errorf("TS lasts %.3f s, source %.3f s", total, want)
			}
		})
	}
}

func TestMuxTSErrors(t *testing.T) {
	bin, _ := testmedia.Tools(t)
	ctx := context.Background()
	log := testmedia.Logger(t, hclog.Debug)
	dir := t.TempDir()
	if err := MuxTS(ctx, log, bin, dir, "", dir, 0); !errors.Is(err, ErrBadJob) {
		t.Errorf("zero segment duration: %v", err)
	}
	if err := MuxTS(ctx, log, bin, dir, "", "", 2); !errors.Is(err, ErrBadJob) {
		t.Errorf("no output: %v", err)
	}
	if err := MuxTS(ctx, log, bin, dir, "", t.TempDir(), 2); !errors.Is(err, ErrBadPlaylist) {
		t.Errorf("no playlist: %v", err)
	}
}
