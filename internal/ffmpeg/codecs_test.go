package ffmpeg

import "testing"

func TestH264Codecs(t *testing.T) {
	for _, tt := range []struct{ profile, level, want string }{
		{"high", "4.0", "avc1.640028"},
		{"High", "4", "avc1.640028"},
		{"high", "4.2", "avc1.64002a"},
		{"main", "3.1", "avc1.4d401f"},
		// x264 writes constrained baseline (constraint_set0+1).
		{"baseline", "3.0", "avc1.42c01e"},
		{"baseline", "31", "avc1.42c01f"},
		{"high", "", "avc1.640028"},
		{"", "5.1", "avc1.640033"},
	} {
		if got := H264Codecs(tt.profile, tt.level); got != tt.want {
			t.Errorf("H264Codecs(%q, %q) = %q, want %q", tt.profile, tt.level, got, tt.want)
		}
	}
	if AACCodecs != "mp4a.40.2" {
		t.Errorf("AACCodecs = %q", AACCodecs)
	}
}
