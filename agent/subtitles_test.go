package agent

import (
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func TestSubtitlesWithoutTextStreams(t *testing.T) {
	e := newRunnerEnv(t)
	// No source at all: nothing is read when nothing can be converted.
	res := e.mustRun(t, "subtitles", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_SUBTITLES})
	if so := res.GetSubtitles(); so == nil || len(so.GetTracks()) != 0 || len(so.GetSkipped()) != 0 {
		t.Errorf("no streams: %v", res)
	}
	res = e.mustRun(t, "subtitles-bitmap", "", &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_SUBTITLES,
		Subtitles: []*v1.SubtitleStream{{Index: 3, Codec: "dvd_subtitle", Language: "eng"}, {Index: 4, Codec: "eia_608"}}})
	so := res.GetSubtitles()
	if len(so.GetTracks()) != 0 || len(so.GetSkipped()) != 2 {
		t.Errorf("bitmap only: %v", so)
	}
}
