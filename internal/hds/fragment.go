package hds

import (
	"encoding/binary"
	"fmt"
)

// FLV tag types found in F4F fragments.
const (
	tagAudio  = 8
	tagVideo  = 9
	tagScript = 18
)

// FLVTags returns the FLV tags of an F4F fragment: the body of its one
// mdat box (other boxes may be afra, abst, moof, free or skip). Appended
// one fragment after the other behind an FLV header they make the FLV
// stream a Flash player is fed. Errors wrap ErrBadFragment.
func FLVTags(data []byte) ([]byte, error) {
	var mdat []byte
	seen := false
	for rest := data; len(rest) > 0; {
		typ, body, next, err := box(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadFragment, err)
		}
		switch typ {
		case "mdat":
			if seen {
				return nil, fmt.Errorf("%w: two mdat boxes", ErrBadFragment)
			}
			mdat, seen = body, true
		case "afra", "abst", "moof", "free", "skip":
		default:
			return nil, fmt.Errorf("%w: unexpected box %q", ErrBadFragment, typ)
		}
		rest = next
	}
	if !seen {
		return nil, fmt.Errorf("%w: no mdat box", ErrBadFragment)
	}
	return mdat, nil
}

// FragmentInfo summarises an F4F fragment's FLV tags.
type FragmentInfo struct {
	// Video, Audio and Script count the tags of each type, and Config the
	// decoder configuration tags (AVC and AAC sequence headers, which the
	// muxer repeats at the start of every fragment) among them.
	Video, Audio, Script, Config int
	// VideoKeyframes counts the video frames (not configuration tags) that
	// are keyframes.
	VideoKeyframes int
	// FirstVideoKeyframe tells whether the first video frame is a keyframe
	// (fragments must start on one so players can switch between them).
	FirstVideoKeyframe bool
	// First and Last are the smallest and largest tag timestamps, in ms.
	First, Last uint32
}

// ParseFragment checks that data is an F4F fragment, a sequence of boxes
// among which an mdat whose body is a sequence of FLV tags (each with a
// correct PreviousTagSize) and nothing else (ffmpeg's hds muxer writes
// just the mdat; other packagers put afra/abst/moof boxes before it), and
// summarises the tags. Errors wrap ErrBadFragment.
func ParseFragment(data []byte) (*FragmentInfo, error) {
	mdat, err := FLVTags(data)
	if err != nil {
		return nil, err
	}
	info := &FragmentInfo{}
	firstVideo, any := true, false
	for off := 0; off < len(mdat); {
		if len(mdat)-off < 15 {
			return nil, fmt.Errorf("%w: truncated flv tag at %d", ErrBadFragment, off)
		}
		h := mdat[off:]
		size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
		ts := uint32(h[7])<<24 | uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6])
		if 11+size+4 > len(h) {
			return nil, fmt.Errorf("%w: flv tag of %d bytes at %d overruns the mdat", ErrBadFragment, size, off)
		}
		if prev := binary.BigEndian.Uint32(h[11+size:]); int(prev) != 11+size {
			return nil, fmt.Errorf("%w: previous tag size %d at %d, want %d", ErrBadFragment, prev, off, 11+size)
		}
		switch h[0] & 0x1f {
		case tagVideo:
			info.Video++
			// Codec 7 (AVC): the byte after the frame type says whether
			// this is the sequence header (0) or a frame.
			if size >= 2 && h[11]&0x0f == 7 && h[12] == 0 {
				info.Config++
				break
			}
			key := size > 0 && h[11]>>4 == 1
			if key {
				info.VideoKeyframes++
			}
			if firstVideo {
				info.FirstVideoKeyframe, firstVideo = key, false
			}
		case tagAudio:
			info.Audio++
			if size >= 2 && h[11]>>4 == 10 && h[12] == 0 { // AAC sequence header
				info.Config++
			}
		case tagScript:
			info.Script++
		default:
			return nil, fmt.Errorf("%w: flv tag type %d at %d", ErrBadFragment, h[0]&0x1f, off)
		}
		if !any || ts < info.First {
			info.First = ts
		}
		info.Last = max(info.Last, ts)
		any = true
		off += 11 + size + 4
	}
	if !any {
		return nil, fmt.Errorf("%w: empty mdat", ErrBadFragment)
	}
	return info, nil
}
