package ffmpeg

import "encoding/binary"

// Minimal ISO BMFF reading for tests: enough to check the timeline of the
// CMAF files ffmpeg writes without another dependency.

// containers are the boxes whose payload is a list of boxes.
var containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true,
	"stbl": true, "edts": true, "moof": true, "traf": true, "mvex": true}

// findBox returns the payload of the first box at path (e.g. "moof",
// "traf", "tfdt"), or nil.
func findBox(data []byte, path ...string) []byte {
	for len(data) >= 8 {
		size := int(binary.BigEndian.Uint32(data))
		typ := string(data[4:8])
		if size < 8 || size > len(data) {
			return nil
		}
		if typ == path[0] {
			if len(path) == 1 {
				return data[8:size]
			}
			if containers[typ] {
				return findBox(data[8:size], path[1:]...)
			}
		}
		data = data[size:]
	}
	return nil
}

// tfdt returns the baseMediaDecodeTime of a media segment, or -1.
func tfdt(seg []byte) int64 {
	b := findBox(seg, "moof", "traf", "tfdt")
	switch {
	case len(b) >= 12 && b[0] == 1:
		return int64(binary.BigEndian.Uint64(b[4:]))
	case len(b) >= 8:
		return int64(binary.BigEndian.Uint32(b[4:]))
	}
	return -1
}

// mdhdTimescale returns the media timescale of an init segment, or 0.
func mdhdTimescale(init []byte) uint32 {
	b := findBox(init, "moov", "trak", "mdia", "mdhd")
	switch {
	case len(b) >= 24 && b[0] == 1:
		return binary.BigEndian.Uint32(b[20:])
	case len(b) >= 16:
		return binary.BigEndian.Uint32(b[12:])
	}
	return 0
}

// hasEmptyEdit reports whether the init segment's edit list starts with an
// empty edit (media_time -1), which shifts presentation in players that
// honour edit lists but not in those that only read tfdt.
func hasEmptyEdit(init []byte) bool {
	b := findBox(init, "moov", "trak", "edts", "elst")
	if len(b) < 8 || binary.BigEndian.Uint32(b[4:]) == 0 {
		return false
	}
	if b[0] == 1 {
		return len(b) >= 24 && int64(binary.BigEndian.Uint64(b[16:])) == -1
	}
	return len(b) >= 16 && int32(binary.BigEndian.Uint32(b[12:])) == -1
}

// firstSampleCTO returns the composition offset of the first sample of a
// media segment (0 when the trun carries none).
func firstSampleCTO(seg []byte) int64 {
	b := findBox(seg, "moof", "traf", "trun")
	if len(b) < 8 {
		return 0
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	p := 8
	if flags&0x1 != 0 {
		p += 4
	}
	if flags&0x4 != 0 {
		p += 4
	}
	for _, f := range []uint32{0x100, 0x200, 0x400} {
		if flags&f != 0 {
			p += 4
		}
	}
	if flags&0x800 == 0 || len(b) < p+4 {
		return 0
	}
	v := binary.BigEndian.Uint32(b[p:])
	if b[0] == 1 {
		return int64(int32(v))
	}
	return int64(v)
}
