package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vodfleet/vodfleet/internal/manifest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// pack writes the HLS playlists and the DASH MPD for the encoded tracks.
func (a *Agent) pack(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	tracks := spec.GetTracks()
	if len(tracks) == 0 {
		return nil, fmt.Errorf("package task has no tracks: %w", errPermanent)
	}
	files := map[string]string{masterName: manifest.HLSMaster(tracks, mediaPlaylist)}
	for _, t := range tracks {
		if t.GetDir() == "" || strings.Contains(t.GetDir(), "..") {
			return nil, fmt.Errorf("track dir %q is invalid: %w", t.GetDir(), errPermanent)
		}
		files[t.GetDir()+"/"+mediaPlaylist] = manifest.HLSMedia(t)
	}
	mpd, err := manifest.DASH(tracks, spec.GetSourceDurationSeconds())
	if err != nil {
		return nil, fmt.Errorf("dash manifest: %w: %w", err, errPermanent)
	}
	files[mpdName] = mpd
	var names []string
	for name, body := range files {
		p := filepath.Join(run.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("manifest dir: %w", err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
		names = append(names, name)
	}
	if err := a.upload(ctx, run, run.dir, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Package{Package: &v1.PackageResult{HlsMaster: masterName, DashManifest: mpdName}}}, nil
}
