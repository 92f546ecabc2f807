package ffmpeg

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseProgressFixture(t *testing.T) {
	// Captured from ffmpeg 5.1 encoding 20 s of 25 fps video.
	var got []Progress
	if err := ParseProgress(bytes.NewReader(readFixture(t, "progress_video.txt")), func(p Progress) {
		got = append(got, p)
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 33 {
		t.Fatalf("got %d blocks, want 33", len(got))
	}
	first, last := got[0], got[len(got)-1]
	if first.Done || first.Frame != 1 || first.OutTime != 85333*time.Microsecond || first.Speed != 16.7 {
		t.Errorf("first block %+v", first)
	}
	if !last.Done || last.Frame != 500 || last.OutTime != 20010667*time.Microsecond || last.FPS != 27.63 || last.Speed != 1.11 {
		t.Errorf("last block %+v", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].OutTime < got[i-1].OutTime || got[i].Frame < got[i-1].Frame {
			t.Fatalf("block %d goes backwards: %+v after %+v", i, got[i], got[i-1])
		}
		if got[i].Done != (i == len(got)-1) {
			t.Fatalf("block %d Done=%v", i, got[i].Done)
		}
	}
}

func TestParseProgressOddValues(t *testing.T) {
	in := strings.Join([]string{
		// Before the first packet ffmpeg prints N/A and a huge negative time.
		"frame=0", "fps=0.00", "bitrate=N/A", "out_time_us=N/A", "out_time_ms=-9223372036854775807",
		"out_time=-577014:32:22.775808", "speed=N/A", "progress=continue",
		// Older builds without out_time_us; speed padded with spaces.
		"frame=12", "fps=11.5", "out_time_ms=1500000", "out_time=00:00:01.500000", "speed=   0x", "progress=continue",
		// Only the clock form, and garbage lines.
		"garbage", "", "frame=30", "out_time=01:02:03.500000", "speed=2.5x", "progress=end", "",
	}, "\n")
	var got []Progress
	if err := ParseProgress(strings.NewReader(in), func(p Progress) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	want := []Progress{
		{},
		{OutTime: 1500 * time.Millisecond, Frame: 12, FPS: 11.5},
		{OutTime: time.Hour + 2*time.Minute + 3500*time.Millisecond, Frame: 30, FPS: 11.5, Speed: 2.5, Done: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
