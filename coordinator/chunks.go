package coordinator

import (
	"math"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// defaultChunkSeconds is the chunk length of jobs that set none: long
// enough that per-chunk startup (seek, encoder warm-up) is noise, short
// enough that a feature film spreads over many agents.
const defaultChunkSeconds = 60

// maxChunkTasks bounds the video tasks of one job (renditions x chunks):
// a job's tasks are created in one etcd transaction, which etcd caps at
// 128 operations. Longer sources get longer chunks instead.
const maxChunkTasks = 32

// chunkSeconds is the job's requested chunk length: 0 for the default,
// negative for no chunking.
func chunkSeconds(opts *v1.EncodeOptions) float64 {
	if c := opts.GetChunkSeconds(); c != 0 {
		return c
	}
	return defaultChunkSeconds
}

// planChunks splits [0, dur) into chunks whose length is a multiple of the
// segment duration, so every chunk starts on a segment boundary and its
// segments continue the previous chunk's numbering. It returns one nil
// chunk (encode everything in one task) when chunking is off, the source
// is no longer than one chunk, or its duration is unknown. A last piece
// shorter than a quarter chunk joins the one before. renditions is the
// number of video renditions, for maxChunkTasks.
func planChunks(dur, seg, length float64, renditions int) []*v1.Chunk {
	if length <= 0 || dur <= 0 || seg <= 0 || math.IsNaN(dur) || math.IsInf(dur, 0) {
		return []*v1.Chunk{nil}
	}
	length = math.Max(seg, math.Floor(length/seg)*seg)
	if most := maxChunkTasks / max(renditions, 1); most >= 1 && math.Ceil(dur/length) > float64(most) {
		length = math.Ceil(dur/float64(most)/seg) * seg
	}
	n := int(math.Ceil(dur/length - 1e-9))
	if n > 1 && dur-float64(n-1)*length < length/4 {
		n--
	}
	if n <= 1 {
		return []*v1.Chunk{nil}
	}
	perChunk := int32(math.Round(length / seg))
	chunks := make([]*v1.Chunk, n)
	for i := range chunks {
		c := &v1.Chunk{
			Index:           int32(i),
			Count:           int32(n),
			StartSeconds:    float64(i) * length,
			DurationSeconds: length,
			FirstSegment:    1 + int32(i)*perChunk,
		}
		if i == n-1 {
			c.DurationSeconds = 0 // to the end, whatever the exact duration
		}
		chunks[i] = c
	}
	return chunks
}
