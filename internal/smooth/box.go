package smooth

import (
	"encoding/binary"
	"fmt"
)

// box is one ISO BMFF box inside a byte slice: its type, the whole box
// (header included) and its payload.
type box struct {
	typ     string
	raw     []byte // header and payload
	payload []byte
}

// boxes splits b into consecutive boxes. A size of 0 (box runs to the
// end) and 64-bit sizes are accepted; anything that overruns b is an
// error.
func boxes(b []byte) ([]box, error) {
	var out []box
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("%d trailing bytes", len(b))
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return nil, fmt.Errorf("box %q: short large size", typ)
			}
			size, hdr = binary.BigEndian.Uint64(b[8:16]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return nil, fmt.Errorf("box %q: size %d outside %d bytes", typ, size, len(b))
		}
		out = append(out, box{typ: typ, raw: b[:size], payload: b[hdr:size]})
		b = b[size:]
	}
	return out, nil
}

// child returns the first box of type typ directly inside payload.
func child(payload []byte, typ string) (box, bool, error) {
	bs, err := boxes(payload)
	if err != nil {
		return box{}, false, err
	}
	for _, b := range bs {
		if b.typ == typ {
			return b, true, nil
		}
	}
	return box{}, false, nil
}

// find follows a path of box types from payload, e.g. "moov", "trak".
func find(payload []byte, path ...string) (box, error) {
	var b box
	for _, typ := range path {
		var ok bool
		var err error
		b, ok, err = child(payload, typ)
		if err != nil {
			return box{}, fmt.Errorf("%s: %w", typ, err)
		}
		if !ok {
			return box{}, fmt.Errorf("no %s box", typ)
		}
		payload = b.payload
	}
	return b, nil
}

// reader reads big-endian fields from a box payload, remembering the
// first overrun instead of panicking.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = fmt.Errorf("field at %d: %d bytes past the end of %d", r.off, n, len(r.b))
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) u8() uint8 {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// fullBox reads the version and flags of a full box.
func (r *reader) fullBox() (version uint8, flags uint32) {
	v := r.u32()
	return uint8(v >> 24), v & 0xffffff
}
