package smooth

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
)

// Presentation is the Smooth view of one asset: a StreamIndex per video
// group and per audio track, each with its quality levels and the chunk
// timeline they share, and for every chunk of every level the stored CMAF
// segment that holds it. It is immutable once built and safe to share.
type Presentation struct {
	// Duration is the presentation duration in seconds (the MPD's).
	Duration float64
	// Streams are the video stream first, then the audio streams in MPD
	// order.
	Streams []*Stream
}

// Stream is one StreamIndex.
type Stream struct {
	// Name is the StreamIndex name and the key in fragment URLs:
	// "video", "audio", then "audio2", "audio3"... for further audio
	// tracks.
	Name string
	// Type is "video" or "audio".
	Type string
	// Language is the audio track's language tag, "" if unknown.
	Language string
	// Timescale is the media timescale of the stream's tracks; chunk
	// times and fragment URLs are in it, so fragments need no rescaling.
	Timescale uint32
	// Chunks is the fragment timeline shared by every level.
	Chunks []Chunk
	// Levels are the quality levels, highest bitrate first.
	Levels []*Level
}

// Chunk is one fragment's start and duration in the stream's timescale.
type Chunk struct {
	T, D uint64
}

// Level is one QualityLevel: a CMAF track.
type Level struct {
	// Bitrate is the DASH bandwidth, made unique within the stream (a
	// fragment URL names the level by it).
	Bitrate int64
	// Track is what the init segment says.
	Track Track
	// Init is the track's init segment path, relative to the asset root.
	Init string
	// segments are the media segment paths, one per chunk.
	segments []string
}

// InitLoader returns the bytes of an init segment, by path relative to
// the asset root.
type InitLoader func(path string) ([]byte, error)

// NewPresentation builds the Smooth view from the asset's DASH MPD and its
// tracks' init segments, read through load. Tracks Smooth cannot carry
// (not H.264 or AAC-LC) are left out, and so are video tracks whose
// timeline differs from the highest-bitrate one, since a StreamIndex has
// one timeline. Errors wrap ErrBadMPD, ErrBadInit or ErrUnsupported (no
// track left), or are load's.
func NewPresentation(mpd []byte, load InitLoader) (*Presentation, error) {
	reps, total, err := parseMPD(mpd)
	if err != nil {
		return nil, err
	}
	p := &Presentation{Duration: total}
	var video *Stream
	audio := map[int]*Stream{}
	sort.SliceStable(reps, func(i, j int) bool { // video first, best first
		if (reps[i].kind == "video") != (reps[j].kind == "video") {
			return reps[i].kind == "video"
		}
		return reps[i].kind == "video" && reps[i].bandwidth > reps[j].bandwidth
	})
	for _, rep := range reps {
		b, err := load(rep.init)
		if err != nil {
			return nil, fmt.Errorf("init segment %s: %w", rep.init, err)
		}
		track, err := ParseInit(b)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rep.init, err)
		}
		if track.Video() != (rep.kind == "video") {
			return nil, fmt.Errorf("%w: %s is %s but its init segment holds %s", ErrBadMPD, rep.id, rep.kind, track.FourCC)
		}
		chunks, err := rescale(rep.segments, rep.timescale, track.Timescale)
		if err != nil {
			return nil, fmt.Errorf("%w: representation %q: %w", ErrBadMPD, rep.id, err)
		}
		level := &Level{Bitrate: rep.bandwidth, Track: track, Init: rep.init}
		for _, s := range rep.segments {
			level.segments = append(level.segments, s.path)
		}
		var st *Stream
		if rep.kind == "video" {
			if video == nil {
				video = &Stream{Name: "video", Type: "video", Timescale: track.Timescale, Chunks: chunks}
				p.Streams = append([]*Stream{video}, p.Streams...)
			}
			st = video
		} else {
			if st = audio[rep.set]; st == nil {
				name := "audio"
				if n := len(audio); n > 0 {
					name += strconv.Itoa(n + 1)
				}
				st = &Stream{Name: name, Type: "audio", Language: rep.lang, Timescale: track.Timescale, Chunks: chunks}
				audio[rep.set] = st
				p.Streams = append(p.Streams, st)
			}
		}
		if st.Timescale != track.Timescale || !sameChunks(st.Chunks, chunks) {
			continue // another timeline: not expressible in this StreamIndex
		}
		for taken(st, level.Bitrate) {
			level.Bitrate++
		}
		st.Levels = append(st.Levels, level)
	}
	if len(p.Streams) == 0 {
		return nil, ErrUnsupported
	}
	for _, st := range p.Streams {
		sort.SliceStable(st.Levels, func(i, j int) bool { return st.Levels[i].Bitrate > st.Levels[j].Bitrate })
	}
	return p, nil
}

// rescale converts segment times from the MPD timescale to the media
// timescale, rounding each boundary once so durations add up exactly.
func rescale(segs []dashSegment, from int64, to uint32) ([]Chunk, error) {
	conv := func(t int64) (uint64, error) {
		if t < 0 {
			return 0, fmt.Errorf("negative time %d", t)
		}
		hi, lo := bits.Mul64(uint64(t), uint64(to))
		lo, carry := bits.Add64(lo, uint64(from)/2, 0)
		hi += carry
		if hi >= uint64(from) {
			return 0, fmt.Errorf("time %d overflows", t)
		}
		q, _ := bits.Div64(hi, lo, uint64(from))
		return q, nil
	}
	out := make([]Chunk, len(segs))
	for i, s := range segs {
		start, err := conv(s.t)
		if err != nil {
			return nil, err
		}
		end, err := conv(s.t + s.d)
		if err != nil {
			return nil, err
		}
		if end <= start {
			return nil, fmt.Errorf("segment %s rounds to no duration", s.path)
		}
		out[i] = Chunk{T: start, D: end - start}
	}
	return out, nil
}

func sameChunks(a, b []Chunk) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func taken(st *Stream, bitrate int64) bool {
	for _, l := range st.Levels {
		if l.Bitrate == bitrate {
			return true
		}
	}
	return false
}

// Segment finds the stored segment behind a fragment URL: the stream by
// name, the level by bitrate and the chunk by its exact start time. It
// returns the segment path (relative to the asset root) and the level.
// Errors wrap ErrNoFragment.
func (p *Presentation) Segment(stream string, bitrate int64, t uint64) (string, *Level, error) {
	for _, st := range p.Streams {
		if st.Name != stream {
			continue
		}
		for _, l := range st.Levels {
			if l.Bitrate != bitrate {
				continue
			}
			i := sort.Search(len(st.Chunks), func(i int) bool { return st.Chunks[i].T >= t })
			if i == len(st.Chunks) || st.Chunks[i].T != t {
				return "", nil, fmt.Errorf("%w: %s has no chunk at %d", ErrNoFragment, stream, t)
			}
			return l.segments[i], l, nil
		}
		return "", nil, fmt.Errorf("%w: %s has no quality level %d", ErrNoFragment, stream, bitrate)
	}
	return "", nil, fmt.Errorf("%w: no stream %q", ErrNoFragment, stream)
}

// Stream returns the stream named name, or nil.
func (p *Presentation) Stream(name string) *Stream {
	for _, st := range p.Streams {
		if st.Name == name {
			return st
		}
	}
	return nil
}
