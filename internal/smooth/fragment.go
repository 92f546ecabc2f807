package smooth

import (
	"encoding/binary"
	"fmt"
)

// tfxdUUID is the extended type of the Smooth TrackFragmentExtendedHeader
// box (MS-SSTR 2.2.4.4), which carries a fragment's absolute start time
// and duration in the stream's timescale.
var tfxdUUID = [16]byte{0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2}

// tfhd and trun flags (ISO/IEC 14496-12 8.8.7, 8.8.8).
const (
	tfhdBaseDataOffset  = 0x000001
	tfhdDefaultDuration = 0x000008
	trunDataOffset      = 0x000001
	trunFirstFlags      = 0x000004
	trunDuration        = 0x000100
	trunSize            = 0x000200
	trunFlags           = 0x000400
	trunCTO             = 0x000800
)

// FragmentInfo is the timing of a rewritten fragment, in the track's
// timescale.
type FragmentInfo struct {
	// Time is the fragment's decode start: the segment's tfdt.
	Time uint64
	// Duration is the sum of its sample durations.
	Duration uint64
}

// Fragment rewrites one CMAF media segment into the Smooth fragment a
// client expects (MS-SSTR 2.2.4): moof (mfhd; traf with tfhd, trun, sdtp
// if present, and a tfxd carrying the tfdt time and the fragment
// duration), then the mdat unchanged. styp, sidx, prft, emsg and the traf
// boxes Smooth does not define (tfdt, sample groups) are dropped; the
// trun data offset is recomputed for the new moof size. defaultDuration is
// the track's trex default sample duration (Track.DefaultDuration). The
// segment must hold exactly one moof with one traf, followed by its
// mdat; errors wrap ErrBadSegment.
func Fragment(segment []byte, defaultDuration uint32) ([]byte, FragmentInfo, error) {
	out, info, err := fragment(segment, defaultDuration)
	if err != nil {
		return nil, FragmentInfo{}, fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	return out, info, nil
}

func fragment(segment []byte, defaultDuration uint32) ([]byte, FragmentInfo, error) {
	top, err := boxes(segment)
	if err != nil {
		return nil, FragmentInfo{}, err
	}
	var moof, mdat box
	moofAt, mdatAt := -1, -1
	off := 0
	for _, b := range top {
		switch b.typ {
		case "moof":
			if moofAt >= 0 {
				return nil, FragmentInfo{}, fmt.Errorf("more than one moof")
			}
			moof, moofAt = b, off
		case "mdat":
			if moofAt < 0 || mdatAt >= 0 {
				return nil, FragmentInfo{}, fmt.Errorf("mdat not right after the one moof")
			}
			mdat, mdatAt = b, off
		}
		off += len(b.raw)
	}
	if moofAt < 0 || mdatAt < 0 {
		return nil, FragmentInfo{}, fmt.Errorf("no moof and mdat")
	}
	kids, err := boxes(moof.payload)
	if err != nil {
		return nil, FragmentInfo{}, fmt.Errorf("moof: %w", err)
	}
	var mfhd, traf []byte
	for _, k := range kids {
		switch k.typ {
		case "mfhd":
			mfhd = k.raw
		case "traf":
			if traf != nil {
				return nil, FragmentInfo{}, fmt.Errorf("more than one traf")
			}
			traf = k.payload
		}
	}
	if mfhd == nil || traf == nil {
		return nil, FragmentInfo{}, fmt.Errorf("moof without mfhd or traf")
	}
	parts, err := boxes(traf)
	if err != nil {
		return nil, FragmentInfo{}, fmt.Errorf("traf: %w", err)
	}
	var tfhd, trun, sdtp []byte
	var haveTime bool
	var info FragmentInfo
	for _, p := range parts {
		switch p.typ {
		case "tfhd":
			tfhd = p.raw
		case "trun":
			if trun != nil {
				return nil, FragmentInfo{}, fmt.Errorf("more than one trun")
			}
			trun = p.raw
		case "sdtp":
			sdtp = p.raw
		case "tfdt":
			r := &reader{b: p.payload}
			if v, _ := r.fullBox(); v == 1 {
				info.Time = r.u64()
			} else {
				info.Time = uint64(r.u32())
			}
			if r.err != nil {
				return nil, FragmentInfo{}, fmt.Errorf("tfdt: %w", r.err)
			}
			haveTime = true
		}
	}
	if tfhd == nil || trun == nil || !haveTime {
		return nil, FragmentInfo{}, fmt.Errorf("traf without tfhd, trun or tfdt")
	}
	tfhd, base, defDur, err := rewriteTfhd(tfhd, defaultDuration)
	if err != nil {
		return nil, FragmentInfo{}, err
	}
	t, err := parseTrun(trun, defDur)
	if err != nil {
		return nil, FragmentInfo{}, err
	}
	info.Duration = t.duration
	// Where the first sample's bytes start, relative to the mdat payload:
	// from the moof start unless tfhd gave an explicit base.
	dataBase := uint64(moofAt)
	if base != nil {
		dataBase = *base
	}
	mdatHdr := len(mdat.raw) - len(mdat.payload)
	intoMdat := int64(dataBase) + int64(t.dataOffset) - int64(mdatAt+mdatHdr)
	if !t.hasOffset {
		intoMdat = 0
	}
	if intoMdat < 0 || intoMdat > int64(len(mdat.payload)) {
		return nil, FragmentInfo{}, fmt.Errorf("trun data starts %d bytes into a %d-byte mdat", intoMdat, len(mdat.payload))
	}

	const tfxdLen = 8 + 16 + 4 + 16
	trafLen := 8 + len(tfhd) + len(trun) + len(sdtp) + tfxdLen
	moofLen := 8 + len(mfhd) + trafLen
	out := make([]byte, 0, moofLen+len(mdat.raw))
	out = appendHeader(out, moofLen, "moof")
	out = append(out, mfhd...)
	out = appendHeader(out, trafLen, "traf")
	out = append(out, tfhd...)
	trunAt := len(out)
	out = append(out, trun...)
	out = append(out, sdtp...)
	out = appendHeader(out, tfxdLen, "uuid")
	out = append(out, tfxdUUID[:]...)
	out = append(out, 1, 0, 0, 0) // version 1, flags 0
	out = binary.BigEndian.AppendUint64(out, info.Time)
	out = binary.BigEndian.AppendUint64(out, info.Duration)
	newOffset := int64(moofLen+mdatHdr) + intoMdat
	if t.hasOffset {
		if newOffset > 1<<31-1 {
			return nil, FragmentInfo{}, fmt.Errorf("data offset %d too large", newOffset)
		}
		binary.BigEndian.PutUint32(out[trunAt+16:], uint32(newOffset))
	} else if intoMdat != 0 {
		return nil, FragmentInfo{}, fmt.Errorf("trun has no data offset but data is not at the mdat start")
	}
	out = append(out, mdat.raw...)
	return out, info, nil
}

// appendHeader appends a compact box header.
func appendHeader(b []byte, size int, typ string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	return append(b, typ...)
}

// rewriteTfhd returns tfhd without a base data offset (Smooth fragments
// are self-contained: offsets count from the moof), the base it had, and
// the default sample duration in effect.
func rewriteTfhd(tfhd []byte, trexDuration uint32) (out []byte, base *uint64, defDur uint32, err error) {
	r := &reader{b: tfhd[8:]}
	_, flags := r.fullBox()
	r.u32() // track_ID
	defDur = trexDuration
	baseAt := -1
	if flags&tfhdBaseDataOffset != 0 {
		baseAt = 8 + r.off
		v := r.u64()
		base = &v
	}
	if flags&0x000002 != 0 {
		r.u32() // sample_description_index
	}
	if flags&tfhdDefaultDuration != 0 {
		defDur = r.u32()
	}
	if r.err != nil {
		return nil, nil, 0, fmt.Errorf("tfhd: %w", r.err)
	}
	if baseAt < 0 {
		return tfhd, nil, defDur, nil
	}
	out = make([]byte, 0, len(tfhd)-8)
	out = append(out, tfhd[:baseAt]...)
	out = append(out, tfhd[baseAt+8:]...)
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	binary.BigEndian.PutUint32(out[8:], binary.BigEndian.Uint32(out[8:])&^tfhdBaseDataOffset)
	return out, base, defDur, nil
}

// trunInfo is what Fragment needs from a trun.
type trunInfo struct {
	hasOffset  bool
	dataOffset int32
	duration   uint64
}

// parseTrun reads the data offset and sums the sample durations of a trun
// (its whole box), using defDur for samples without their own.
func parseTrun(trun []byte, defDur uint32) (trunInfo, error) {
	r := &reader{b: trun[8:]}
	_, flags := r.fullBox()
	count := r.u32()
	var t trunInfo
	if flags&trunDataOffset != 0 {
		t.hasOffset = true
		t.dataOffset = int32(r.u32())
	}
	if flags&trunFirstFlags != 0 {
		r.u32()
	}
	per := 0
	for _, f := range []uint32{trunDuration, trunSize, trunFlags, trunCTO} {
		if flags&f != 0 {
			per += 4
		}
	}
	if r.err != nil || uint64(count)*uint64(per) > uint64(len(r.b)-r.off) {
		return trunInfo{}, fmt.Errorf("trun: %d samples of %d bytes in %d: %v", count, per, len(r.b)-r.off, r.err)
	}
	if flags&trunDuration == 0 {
		if defDur == 0 {
			return trunInfo{}, fmt.Errorf("trun: no sample durations and no default")
		}
		t.duration = uint64(count) * uint64(defDur)
		return t, nil
	}
	for range count {
		t.duration += uint64(r.u32())
		r.take(per - 4)
	}
	return t, r.err
}
