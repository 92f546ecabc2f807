package hds

import (
	"encoding/binary"
	"fmt"
)

// Bootstrap is a decoded abst box (bootstrap info), the part that says
// which fragments exist and when they play.
type Bootstrap struct {
	// Version is the bootstrap info version (BootstrapinfoVersion).
	Version uint32
	// Live is the live flag; VOD bootstraps have it off.
	Live bool
	// Timescale is the units per second of CurrentMediaTime.
	Timescale uint32
	// CurrentMediaTime is the end of the presentation, in Timescale units.
	CurrentMediaTime uint64
	// SegmentRuns is the first segment run table (asrt).
	SegmentRuns []SegmentRun
	// FragmentTimescale is the units per second of FragmentRuns.
	FragmentTimescale uint32
	// FragmentRuns is the first fragment run table (afrt).
	FragmentRuns []FragmentRun
}

// SegmentRun is an asrt entry: segments from FirstSegment on (until the
// next run) each hold FragmentsPerSegment fragments.
type SegmentRun struct {
	FirstSegment        uint32
	FragmentsPerSegment uint32
}

// FragmentRun is an afrt entry: fragments from FirstFragment on (until
// the next run) last Duration each, the first starting at Timestamp. A
// zero Duration marks a discontinuity of kind Discontinuity (0 is the end
// of the presentation).
type FragmentRun struct {
	FirstFragment uint32
	Timestamp     uint64
	Duration      uint32
	Discontinuity uint8
}

// Fragment is one fragment a bootstrap names.
type Fragment struct {
	// Segment and Number make its URL (FragmentURL).
	Segment, Number uint32
	// Start and Duration in seconds.
	Start, Duration float64
}

// Duration is the presentation length in seconds.
func (b *Bootstrap) Duration() float64 {
	if b.Timescale == 0 {
		return 0
	}
	return float64(b.CurrentMediaTime) / float64(b.Timescale)
}

// reader reads big-endian fields of a box body, remembering the first
// overrun.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8   { return r.take(1)[0] }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.take(4)) }
func (r *reader) u64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }

// str reads a NUL-terminated string.
func (r *reader) str() string {
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.bad = true
	return ""
}

// strs reads a count byte and that many strings.
func (r *reader) strs() {
	for n := r.u8(); n > 0 && !r.bad; n-- {
		r.str()
	}
}

// box splits the next box off data: its type, body and the rest. 64-bit
// sizes are accepted; a size of 0 (to the end) too.
func box(data []byte) (typ string, body, rest []byte, err error) {
	if len(data) < 8 {
		return "", nil, nil, fmt.Errorf("box header of %d bytes", len(data))
	}
	size, hdr := uint64(binary.BigEndian.Uint32(data)), uint64(8)
	typ = string(data[4:8])
	switch size {
	case 0:
		size = uint64(len(data))
	case 1:
		if len(data) < 16 {
			return "", nil, nil, fmt.Errorf("%s: truncated large size", typ)
		}
		size, hdr = binary.BigEndian.Uint64(data[8:]), 16
	}
	if size < hdr || size > uint64(len(data)) {
		return "", nil, nil, fmt.Errorf("%s: size %d, %d bytes left", typ, size, len(data))
	}
	return typ, data[hdr:size], data[size:], nil
}

// ParseBootstrap decodes an abst box (the content of a .abst file or of
// an inline bootstrapInfo). Only the first segment and fragment run
// tables are kept: vodfleet's bootstraps have no quality levels. Errors
// wrap ErrBadBootstrap.
func ParseBootstrap(data []byte) (*Bootstrap, error) {
	typ, body, _, err := box(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBootstrap, err)
	}
	if typ != "abst" {
		return nil, fmt.Errorf("%w: box %q, want abst", ErrBadBootstrap, typ)
	}
	r := &reader{b: body}
	b := &Bootstrap{}
	r.u32() // version, flags
	b.Version = r.u32()
	b.Live = r.u8()&0x20 != 0 // profile (2 bits), live, update, reserved
	b.Timescale = r.u32()
	b.CurrentMediaTime = r.u64()
	r.u64()  // SMPTE time code offset
	r.str()  // movie identifier
	r.strs() // server entries
	r.strs() // quality entries
	r.str()  // DRM data
	r.str()  // metadata
	if r.bad {
		return nil, fmt.Errorf("%w: truncated abst header", ErrBadBootstrap)
	}
	for n, i := r.u8(), uint8(0); i < n && !r.bad; i++ {
		typ, body, rest, err := box(r.b)
		if err != nil || typ != "asrt" {
			return nil, fmt.Errorf("%w: segment run table %d: %q %v", ErrBadBootstrap, i, typ, err)
		}
		r.b = rest
		runs, err := parseASRT(body)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			b.SegmentRuns = runs
		}
	}
	for n, i := r.u8(), uint8(0); i < n && !r.bad; i++ {
		typ, body, rest, err := box(r.b)
		if err != nil || typ != "afrt" {
			return nil, fmt.Errorf("%w: fragment run table %d: %q %v", ErrBadBootstrap, i, typ, err)
		}
		r.b = rest
		scale, runs, err := parseAFRT(body)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			b.FragmentTimescale, b.FragmentRuns = scale, runs
		}
	}
	if r.bad {
		return nil, fmt.Errorf("%w: truncated run tables", ErrBadBootstrap)
	}
	if b.Timescale == 0 || b.FragmentTimescale == 0 {
		return nil, fmt.Errorf("%w: zero timescale", ErrBadBootstrap)
	}
	if len(b.SegmentRuns) == 0 || len(b.FragmentRuns) == 0 {
		return nil, fmt.Errorf("%w: no segment or fragment runs", ErrBadBootstrap)
	}
	return b, nil
}

// parseASRT decodes the body of a segment run table box.
func parseASRT(body []byte) ([]SegmentRun, error) {
	r := &reader{b: body}
	r.u32() // version, flags
	r.strs()
	n := r.u32()
	if r.bad || uint64(n)*8 > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: asrt of %d entries truncated", ErrBadBootstrap, n)
	}
	runs := make([]SegmentRun, n)
	for i := range runs {
		runs[i] = SegmentRun{FirstSegment: r.u32(), FragmentsPerSegment: r.u32()}
	}
	return runs, nil
}

// parseAFRT decodes the body of a fragment run table box.
func parseAFRT(body []byte) (uint32, []FragmentRun, error) {
	r := &reader{b: body}
	r.u32() // version, flags
	scale := r.u32()
	r.strs()
	n := r.u32()
	if r.bad || uint64(n)*16 > uint64(len(r.b))+uint64(n) { // entries are 16 or 17 bytes
		return 0, nil, fmt.Errorf("%w: afrt of %d entries truncated", ErrBadBootstrap, n)
	}
	runs := make([]FragmentRun, 0, n)
	for i := uint32(0); i < n; i++ {
		f := FragmentRun{FirstFragment: r.u32(), Timestamp: r.u64(), Duration: r.u32()}
		if f.Duration == 0 {
			f.Discontinuity = r.u8()
		}
		runs = append(runs, f)
	}
	if r.bad {
		return 0, nil, fmt.Errorf("%w: afrt entries truncated", ErrBadBootstrap)
	}
	return scale, runs, nil
}

// Fragments enumerates every fragment the bootstrap names, in order,
// with its segment, number, start and duration: how a player walks a VOD
// presentation. The fragment count comes from the segment runs (the last
// run covers one segment, as in a VOD bootstrap); the fragment runs give
// the times (a run lasts until the next one starts, a discontinuity entry
// of kind 0 ends the list). Errors wrap ErrBadBootstrap.
func (b *Bootstrap) Fragments() ([]Fragment, error) {
	// Fragment numbers continue across segments; list (segment, count).
	type segFrags struct{ seg, n uint32 }
	var segs []segFrags
	total := uint64(0)
	for i, s := range b.SegmentRuns {
		count := uint32(1)
		if i+1 < len(b.SegmentRuns) {
			next := b.SegmentRuns[i+1].FirstSegment
			if next <= s.FirstSegment {
				return nil, fmt.Errorf("%w: segment runs out of order", ErrBadBootstrap)
			}
			count = next - s.FirstSegment
		}
		for k := uint32(0); k < count; k++ {
			segs = append(segs, segFrags{s.FirstSegment + k, s.FragmentsPerSegment})
			total += uint64(s.FragmentsPerSegment)
		}
		if total > 1<<20 {
			return nil, fmt.Errorf("%w: more than %d fragments", ErrBadBootstrap, 1<<20)
		}
	}
	runs := b.FragmentRuns
	first := runs[0].FirstFragment
	scale := float64(b.FragmentTimescale)
	out := make([]Fragment, 0, total)
	run, si, inSeg := 0, 0, uint32(0)
	for n := first; uint64(n-first) < total; n++ {
		// Skip to the run that covers n.
		for run+1 < len(runs) && runs[run+1].FirstFragment <= n {
			run++
			if runs[run].Duration == 0 && runs[run].Discontinuity == 0 {
				return out, nil // end of presentation
			}
		}
		r := runs[run]
		if r.Duration == 0 || n < r.FirstFragment {
			return nil, fmt.Errorf("%w: fragment %d has no timing", ErrBadBootstrap, n)
		}
		for inSeg >= segs[si].n {
			si, inSeg = si+1, 0
		}
		start := float64(r.Timestamp) + float64(n-r.FirstFragment)*float64(r.Duration)
		out = append(out, Fragment{Segment: segs[si].seg, Number: n, Start: start / scale, Duration: float64(r.Duration) / scale})
		inSeg++
	}
	return out, nil
}
