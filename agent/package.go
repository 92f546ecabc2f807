package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/vodfleet/vodfleet/internal/manifest"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// pack writes the manifests the job's outputs ask for (HLS master and media
// playlists, DASH MPD) over the encoded tracks and the results of the
// thumbnail, subtitle and mux tasks (see manifest.Build), and uploads them
// to staging; the leader publishes them at the asset root.
func (a *Agent) pack(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	b, err := manifest.Build(spec, manifest.Names{Master: masterName, MPD: mpdName, Media: mediaPlaylist, HDS: hdsManifest})
	if err != nil {
		return nil, fmt.Errorf("manifests: %w: %w", err, errPermanent)
	}
	files := map[string][]byte{}
	for name, body := range b.Files {
		files[name] = []byte(body)
	}
	if len(b.Mapped) > 0 {
		mapped, err := a.mapSubtitles(ctx, run, b)
		if err != nil {
			return nil, err
		}
		for name, body := range mapped {
			files[name] = body
		}
	}
	names := make([]string, 0, len(files))
	for name, body := range files {
		p := filepath.Join(run.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("manifest dir: %w", err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if err := a.upload(ctx, run, run.dir, names); err != nil {
		return nil, err
	}
	run.setProgress(1, 0)
	return &v1.TaskResult{Result: &v1.TaskResult_Package{Package: b.Result}}, nil
}

// mapSubtitles returns, for TS HLS, the copies of the published WebVTT
// files with an X-TIMESTAMP-MAP tying cue time zero to the first
// presentation timestamp of the MPEG-TS variants (read from the first
// segment of the first variant; all are remuxed alike).
func (a *Agent) mapSubtitles(ctx context.Context, run *taskRun, b *manifest.Bundle) (map[string][]byte, error) {
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return nil, err
	}
	asset := assetRoot(run)
	ts := b.Presentation.TS[0]
	first := path.Join(ts.GetDir(), ts.GetSegments()[0].GetName())
	local := filepath.Join(run.dir, "in", "first.ts")
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	if err := st.GetToFile(ctx, asset+first, local); err != nil {
		return nil, fmt.Errorf("read %s: %w", first, err)
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", first, err)
	}
	pts, err := tsFirstPTS(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", first, err)
	}
	out := map[string][]byte{}
	for dst, src := range b.Mapped {
		var buf bytes.Buffer
		if _, err := st.Get(ctx, asset+src, &buf); err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		body, err := manifest.TimestampMap(buf.Bytes(), pts)
		if err != nil {
			if errors.Is(err, manifest.ErrBadWebVTT) {
				err = fmt.Errorf("%s: %w: %w", src, err, errPermanent)
			}
			return nil, err
		}
		out[dst] = body
	}
	return out, nil
}
