package agent

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// measureSegments fills the size of each of t's segments from its file in
// dir, and t's average bitrate (all bytes over all seconds) and peak
// bitrate (the densest segment), which the manifests advertise.
func measureSegments(dir string, t *v1.TrackOutput) error {
	var bits, secs float64
	for _, s := range t.GetSegments() {
		fi, err := os.Stat(filepath.Join(dir, s.GetName()))
		if err != nil {
			return fmt.Errorf("segment %s: %w", s.GetName(), err)
		}
		s.Size = fi.Size()
		bits += float64(fi.Size() * 8)
		secs += s.GetDurationSeconds()
		if d := s.GetDurationSeconds(); d > 0 {
			t.PeakBitrate = max(t.PeakBitrate, int64(float64(fi.Size()*8)/d))
		}
	}
	if secs > 0 {
		t.AverageBitrate = int64(bits / secs)
	}
	return nil
}
