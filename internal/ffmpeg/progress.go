package ffmpeg

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Progress is one block of ffmpeg's -progress output. ffmpeg writes a block
// about every half second and a last one with progress=end.
type Progress struct {
	// OutTime is the output timestamp reached, the basis for a fraction of
	// the source duration. Zero while ffmpeg reports N/A or a negative time.
	OutTime time.Duration
	// Frame is the number of video frames written (0 for audio-only).
	Frame int64
	// FPS is the current encoding speed in frames per second.
	FPS float64
	// Speed is the encoding speed relative to real time (2.5 for "2.5x").
	Speed float64
	// Done is true on the final block (progress=end).
	Done bool
}

// ParseProgress reads ffmpeg -progress output (key=value lines, each block
// closed by progress=continue or progress=end) from r and calls fn once per
// block, in order. Unknown keys and "N/A" values are ignored; a value that
// does not parse leaves the field at its previous value. It returns when r
// is exhausted, with r's error if any.
func ParseProgress(r io.Reader, fn func(Progress)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var p Progress
	// out_time_us is preferred; out_time_ms (microseconds too, despite its
	// name) and out_time are fallbacks.
	var haveUS bool
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "progress":
			p.Done = val == "end"
			fn(p)
			haveUS = false
			continue
		case "frame":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil {
				p.Frame = n
			}
		case "fps":
			if f, err := strconv.ParseFloat(val, 64); err == nil {
				p.FPS = f
			}
		case "speed":
			if f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(val, "x")), 64); err == nil {
				p.Speed = f
			}
		case "out_time_us":
			if d, ok := micros(val); ok {
				p.OutTime, haveUS = d, true
			}
		case "out_time_ms":
			if d, ok := micros(val); ok && !haveUS {
				p.OutTime = d
			}
		case "out_time":
			if d, ok := clock(val); ok && !haveUS {
				p.OutTime = d
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read progress: %w", err)
	}
	return nil
}

// micros parses a microsecond count; negative values (ffmpeg prints
// -9223372036854775807 before the first packet) become zero.
func micros(val string) (time.Duration, bool) {
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return 0, false
	}
	if n < 0 {
		return 0, true
	}
	return time.Duration(n) * time.Microsecond, true
}

// clock parses "HH:MM:SS.micro"; a leading "-" yields zero.
func clock(val string) (time.Duration, bool) {
	if strings.HasPrefix(val, "-") {
		return 0, true
	}
	parts := strings.Split(val, ":")
	if len(parts) != 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	s, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s*float64(time.Second)), true
}
