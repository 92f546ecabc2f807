package smooth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Track is what the Smooth manifest says about one CMAF track that only
// its init segment knows: the media timescale (sample durations in the
// segments are in it, so the StreamIndex uses it too), the codec and the
// codec configuration Smooth clients build their own init segment from.
type Track struct {
	// Timescale is the mdhd timescale: ticks per second.
	Timescale uint32
	// DefaultDuration is the trex default sample duration, used when a
	// fragment's tfhd and trun carry none.
	DefaultDuration uint32
	// FourCC is "AVC1" (H.264) or "AACL" (AAC).
	FourCC string
	// CodecPrivateData is upper-case hex: the SPS and PPS NAL units in
	// Annex-B form (each after a 00000001 start code) for video, the
	// AudioSpecificConfig for audio.
	CodecPrivateData string
	// Width and Height are the coded picture size of a video track.
	Width, Height int
	// SampleRate, Channels and BitsPerSample describe an audio track.
	SampleRate, Channels, BitsPerSample int
}

// Video reports whether t is a video track.
func (t Track) Video() bool { return t.FourCC == "AVC1" }

// ParseInit reads a CMAF init segment (ftyp, moov with one trak). Errors
// wrap ErrBadInit, or ErrUnsupported for a codec other than H.264 or AAC.
func ParseInit(b []byte) (Track, error) {
	t, err := parseInit(b)
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, ErrUnsupported):
		return Track{}, err
	default:
		return Track{}, fmt.Errorf("%w: %w", ErrBadInit, err)
	}
}

func parseInit(b []byte) (Track, error) {
	moov, err := find(b, "moov")
	if err != nil {
		return Track{}, err
	}
	mdia, err := find(moov.payload, "trak", "mdia")
	if err != nil {
		return Track{}, err
	}
	var t Track
	mdhd, err := find(mdia.payload, "mdhd")
	if err != nil {
		return Track{}, err
	}
	r := &reader{b: mdhd.payload}
	if v, _ := r.fullBox(); v == 1 {
		r.take(16)
	} else {
		r.take(8)
	}
	t.Timescale = r.u32()
	if r.err != nil || t.Timescale == 0 {
		return Track{}, fmt.Errorf("mdhd: timescale %d: %v", t.Timescale, r.err)
	}
	if trex, err := find(moov.payload, "mvex", "trex"); err == nil {
		r := &reader{b: trex.payload}
		r.fullBox()
		r.u32() // track_ID
		r.u32() // default_sample_description_index
		if d := r.u32(); r.err == nil {
			t.DefaultDuration = d
		}
	}
	stsd, err := find(mdia.payload, "minf", "stbl", "stsd")
	if err != nil {
		return Track{}, err
	}
	if len(stsd.payload) < 8 {
		return Track{}, fmt.Errorf("stsd: %d bytes", len(stsd.payload))
	}
	entries, err := boxes(stsd.payload[8:])
	if err != nil || len(entries) == 0 {
		return Track{}, fmt.Errorf("stsd entries: %v", err)
	}
	entry := entries[0]
	switch entry.typ {
	case "avc1", "avc3":
		return t, parseAVC(&t, entry.payload)
	case "mp4a":
		return t, parseAAC(&t, entry.payload)
	default:
		return Track{}, fmt.Errorf("sample entry %q: %w", entry.typ, ErrUnsupported)
	}
}

// visualEntryLen and audioEntryLen are the fixed fields of a visual and
// an audio sample entry (ISO/IEC 14496-12 12.1.3, 12.2.3) before their
// child boxes.
const (
	visualEntryLen = 78
	audioEntryLen  = 28
)

// parseAVC fills t from an avc1 sample entry: the size, and the SPS and
// PPS of its avcC as Annex-B hex.
func parseAVC(t *Track, entry []byte) error {
	if len(entry) < visualEntryLen {
		return fmt.Errorf("avc1: %d bytes", len(entry))
	}
	t.FourCC = "AVC1"
	t.Width = int(entry[24])<<8 | int(entry[25])
	t.Height = int(entry[26])<<8 | int(entry[27])
	avcC, err := find(entry[visualEntryLen:], "avcC")
	if err != nil {
		return err
	}
	r := &reader{b: avcC.payload}
	r.take(5) // version, profile, compatibility, level, NAL length size
	var sb strings.Builder
	for _, mask := range []uint8{0x1f, 0xff} { // SPS count, then PPS count
		n := int(r.u8() & mask)
		for range n {
			nal := r.take(int(r.u16()))
			if len(nal) > 0 {
				sb.WriteString("00000001")
				sb.WriteString(strings.ToUpper(hex.EncodeToString(nal)))
			}
		}
	}
	if r.err != nil {
		return fmt.Errorf("avcC: %w", r.err)
	}
	if sb.Len() == 0 {
		return fmt.Errorf("avcC: no parameter sets")
	}
	t.CodecPrivateData = sb.String()
	return nil
}

// parseAAC fills t from an mp4a sample entry: channels, sample size and
// rate, and the AudioSpecificConfig from its esds.
func parseAAC(t *Track, entry []byte) error {
	if len(entry) < audioEntryLen {
		return fmt.Errorf("mp4a: %d bytes", len(entry))
	}
	t.FourCC = "AACL"
	t.Channels = int(entry[16])<<8 | int(entry[17])
	t.BitsPerSample = int(entry[18])<<8 | int(entry[19])
	t.SampleRate = int(entry[24])<<8 | int(entry[25])
	esds, err := find(entry[audioEntryLen:], "esds")
	if err != nil {
		return err
	}
	asc, err := audioSpecificConfig(esds.payload)
	if err != nil {
		return fmt.Errorf("esds: %w", err)
	}
	if len(asc) > 0 && asc[0]>>3 != 2 {
		// Only AAC-LC (object type 2) is AACL; HE-AAC would need AACH.
		return fmt.Errorf("aac object type %d: %w", asc[0]>>3, ErrUnsupported)
	}
	t.CodecPrivateData = strings.ToUpper(hex.EncodeToString(asc))
	if t.Timescale > 0 && t.SampleRate == 0 {
		t.SampleRate = int(t.Timescale)
	}
	return nil
}

// audioSpecificConfig walks the ES_Descriptor of an esds payload (ISO/IEC
// 14496-1 7.2.6) to its DecoderSpecificInfo.
func audioSpecificConfig(payload []byte) ([]byte, error) {
	r := &reader{b: payload}
	r.fullBox()
	tag, size := descriptor(r)
	if tag != 0x03 {
		return nil, fmt.Errorf("tag %#x, want ES_Descriptor", tag)
	}
	end := r.off + size
	r.u16() // ES_ID
	flags := r.u8()
	if flags&0x80 != 0 {
		r.u16() // dependsOn_ES_ID
	}
	if flags&0x40 != 0 {
		r.take(int(r.u8())) // URL
	}
	if flags&0x20 != 0 {
		r.u16() // OCR_ES_Id
	}
	for r.err == nil && r.off < end {
		tag, size := descriptor(r)
		if tag != 0x04 { // not DecoderConfigDescriptor
			r.take(size)
			continue
		}
		dcEnd := r.off + size
		r.take(13) // objectType, streamType, buffer size, bitrates
		for r.err == nil && r.off < dcEnd {
			tag, size := descriptor(r)
			if tag == 0x05 {
				asc := r.take(size)
				if r.err != nil || len(asc) < 2 {
					return nil, fmt.Errorf("DecoderSpecificInfo of %d bytes: %v", len(asc), r.err)
				}
				return asc, nil
			}
			r.take(size)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return nil, fmt.Errorf("no DecoderSpecificInfo")
}

// descriptor reads an MPEG-4 descriptor tag and its expandable size.
func descriptor(r *reader) (tag uint8, size int) {
	tag = r.u8()
	for range 4 {
		b := r.u8()
		size = size<<7 | int(b&0x7f)
		if b&0x80 == 0 {
			break
		}
	}
	return tag, size
}
