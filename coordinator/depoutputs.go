package coordinator

import (
	"sort"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// depOutputs collects what t's dependencies produced, for the package and
// mux tasks: one track per track directory (the chunks of a rendition
// merged in timeline order), in dependency order, and the results of the
// thumbnails, subtitles and mux tasks.
func depOutputs(jr *jobRecord, t *v1.Task) (tracks []*v1.TrackOutput, extras []*v1.TaskResult) {
	chunks := map[string][]*v1.Task{}
	var dirs []string
	for _, d := range t.GetDependsOn() {
		dep := jr.tasks[d]
		if dep == nil {
			continue
		}
		res := dep.task.GetResult()
		if tk := res.GetTrack(); tk != nil {
			if _, ok := chunks[tk.GetDir()]; !ok {
				dirs = append(dirs, tk.GetDir())
			}
			chunks[tk.GetDir()] = append(chunks[tk.GetDir()], dep.task)
			continue
		}
		if res != nil {
			extras = append(extras, res)
		}
	}
	for _, dir := range dirs {
		tracks = append(tracks, mergeChunks(chunks[dir]))
	}
	return tracks, extras
}

// mergeChunks joins the tracks of one rendition's chunk tasks into one
// track: chunk 0's init segment and metadata, every chunk's segments in
// timeline order, the average bitrate over the whole and the highest peak.
// A single task's track is returned as it is.
func mergeChunks(tasks []*v1.Task) *v1.TrackOutput {
	if len(tasks) == 1 {
		return tasks[0].GetResult().GetTrack()
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		return tasks[i].GetSpec().GetChunk().GetIndex() < tasks[j].GetSpec().GetChunk().GetIndex()
	})
	merged := proto.Clone(tasks[0].GetResult().GetTrack()).(*v1.TrackOutput)
	merged.Segments = nil
	var bits, secs float64
	for _, tk := range tasks {
		track := tk.GetResult().GetTrack()
		merged.Segments = append(merged.Segments, track.GetSegments()...)
		merged.PeakBitrate = max(merged.GetPeakBitrate(), track.GetPeakBitrate())
		for _, s := range track.GetSegments() {
			bits += float64(s.GetSize() * 8)
			secs += s.GetDurationSeconds()
		}
	}
	if secs > 0 {
		merged.AverageBitrate = int64(bits / secs)
	}
	return merged
}
