package ffmpeg

import (
	"context"
	"testing"
)

func TestParseEncoders(t *testing.T) {
	out := []byte(`Encoders:
 V..... = Video
 A..... = Audio
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 A..... aac                  AAC (Advanced Audio Coding)
 V..... libsvtav1            SVT-AV1(Scalable Video Technology for AV1) encoder (codec av1)
`)
	got := ParseEncoders(out)
	if len(got) != 3 || !got["libx264"] || !got["aac"] || !got["libsvtav1"] || got["V....."] {
		t.Fatalf("parsed %v", got)
	}
}

func TestEncodersOfInstalledFFmpeg(t *testing.T) {
	bin, _ := tools(t)
	got, err := Encoders(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if !got["libx264"] || !got["aac"] {
		t.Fatalf("installed ffmpeg lacks libx264/aac according to %d parsed encoders", len(got))
	}
}
