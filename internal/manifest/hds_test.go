package manifest

import (
	"errors"
	"testing"

	"github.com/vodfleet/vodfleet/internal/hds"
	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// hdsMux is the MUX result of a rendition with HDS.
func hdsMux(r string, kbps int32, dur float64) *vodfleetv1.TaskResult {
	return &vodfleetv1.TaskResult{Result: &vodfleetv1.TaskResult_Mux{Mux: &vodfleetv1.MuxOutput{Rendition: r,
		Hds: &vodfleetv1.HdsMedia{Bootstrap: "hds/" + r + "/stream0.abst", Media: "hds/" + r + "/stream0",
			BitrateKbps: kbps, Metadata: []byte{2, 0, 10}, DurationSeconds: dur, Fragments: 3, Width: 320, Height: 180}}}}
}

func TestHDSManifest(t *testing.T) {
	n := names
	n.HDS = "hds/index.f4m"
	spec := &vodfleetv1.TaskSpec{Tracks: ladder(), SourceDurationSeconds: 6,
		Outputs: &vodfleetv1.Outputs{Hds: true},
		Extras:  []*vodfleetv1.TaskResult{hdsMux("720p", 2900, 6.05), hdsMux("360p", 900, 6.09)}}
	b, err := Build(spec, n)
	if err != nil {
		t.Fatal(err)
	}
	if b.Result.GetHdsManifest() != "hds/index.f4m" || b.Result.GetHlsMaster() == "" {
		t.Fatalf("result %v", b.Result)
	}
	m, err := hds.ParseManifest([]byte(b.Files["hds/index.f4m"]))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Files["hds/index.f4m"])
	}
	if len(m.Media) != 2 || m.Duration != 6.09 || m.StreamType != "recorded" {
		t.Fatalf("manifest %+v", m)
	}
	// Lowest bitrate first; URLs relative to hds/.
	low := m.Media[0]
	if low.Bitrate != 900 || low.URL != "360p/stream0" || m.Bootstrap(low).URL != "360p/stream0.abst" ||
		low.Metadata != "AgAK" || low.Width != 320 || m.Media[1].URL != "720p/stream0" {
		t.Fatalf("media %+v, bootstraps %+v", m.Media, m.Bootstraps)
	}

	// Off: no manifest even with HDS results.
	spec.Outputs.Hds = false
	if b, err := Build(spec, n); err != nil || b.Files["hds/index.f4m"] != "" || b.Result.GetHdsManifest() != "" {
		t.Fatalf("hds off: %v %v", err, b.Result)
	}

	// A rendition outside the manifest's directory.
	bad := hdsMux("x", 1, 1)
	bad.GetMux().GetHds().Media = "elsewhere/stream0"
	if _, err := HDSManifest("hds/index.f4m", []*vodfleetv1.HdsMedia{bad.GetMux().GetHds()}); !errors.Is(err, ErrBadPath) {
		t.Fatalf("outside: %v", err)
	}
	if _, err := HDSManifest("hds/index.f4m", nil); !errors.Is(err, ErrNoTracks) {
		t.Fatalf("empty: %v", err)
	}
}
