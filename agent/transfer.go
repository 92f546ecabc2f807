package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vodfleet/vodfleet/internal/transfer"
	"github.com/vodfleet/vodfleet/internal/urlpolicy"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Share of a transfer task's progress fraction spent reading the asset
// from storage; the push is the rest. Progress in bytes covers the push.
const transferReadShare = 0.2

// pushAsset runs a TRANSFER task: it reads the published asset's objects
// from the lease's storage node into the scratch directory, then pushes
// them to the destination with transfer.Push (media first, manifests
// last; files the destination already has with the same size are skipped,
// so a retry or a re-push sends only what is missing). Credentials come
// from the agent's DestinationConfig, never from the task.
func (a *Agent) pushAsset(ctx context.Context, run *taskRun) (*v1.TaskResult, error) {
	spec := run.grant.GetTask().GetSpec()
	dest := spec.GetDestination()
	opts := a.cfg.Destinations.options(run.log.Named("push"))
	if dest.GetOptions()["ftp_tls"] == "explicit" {
		opts.FTPExplicitTLS = true
	}
	if err := a.checkFileDestination(dest.GetUrl()); err != nil {
		return nil, err
	}
	local := filepath.Join(run.dir, "pkg")
	total, err := a.readAsset(ctx, run, spec.GetAssetId(), local)
	if err != nil {
		return nil, err
	}
	d, err := transfer.ParseDestination(dest.GetUrl(), opts)
	if err != nil {
		return nil, transferError(err)
	}
	defer d.Close()
	run.setBytes(0, total)
	res, err := transfer.Push(ctx, local, d, func(done, all int64) {
		run.setBytes(done, all)
		if all > 0 {
			run.setProgress(transferReadShare+(1-transferReadShare)*float64(done)/float64(all), 0)
		}
	}, opts)
	if err != nil {
		return nil, transferError(err)
	}
	run.setProgress(1, 0)
	run.log.Info("asset pushed", "destination", d.String(), "sent", len(res.Sent), "skipped", len(res.Skipped), "bytes", res.Bytes)
	return &v1.TaskResult{Result: &v1.TaskResult_Transfer{Transfer: &v1.TransferOutput{
		FilesSent: int64(len(res.Sent)), FilesSkipped: int64(len(res.Skipped)), BytesSent: res.Bytes, BytesTotal: total,
	}}}, nil
}

// readAsset downloads every object of the asset into dir, keeping its
// layout, and returns the bytes read.
func (a *Agent) readAsset(ctx context.Context, run *taskRun, assetID, dir string) (int64, error) {
	st, err := a.stores.forGrant(run.grant)
	if err != nil {
		return 0, err
	}
	root := "assets/" + assetID + "/"
	objs, err := st.List(ctx, root)
	if err != nil {
		return 0, fmt.Errorf("list asset: %w", err)
	}
	if len(objs) == 0 {
		return 0, permanent(fmt.Errorf("asset %s has no objects in storage", assetID))
	}
	var total, done int64
	for _, o := range objs {
		total += o.GetSize()
	}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.GetPath(), root)
		if rel == "" || rel != path.Clean(rel) || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return 0, permanent(fmt.Errorf("asset object %q has an unusable path", o.GetPath()))
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, fmt.Errorf("scratch dir: %w", err)
		}
		if err := st.GetToFile(ctx, o.GetPath(), p); err != nil {
			return 0, fmt.Errorf("read %s: %w", rel, err)
		}
		done += o.GetSize()
		if total > 0 {
			run.setProgress(transferReadShare*float64(done)/float64(total), 0)
		}
	}
	return total, nil
}

// checkFileDestination refuses file:// destinations outside the
// configured root (all of them when none is configured).
func (a *Agent) checkFileDestination(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "file") {
		return nil // other schemes; ParseDestination checks the URL
	}
	root := a.cfg.Destinations.FileRoot
	if root == "" {
		return permanent(errors.New("file destinations are not enabled on this agent (no destination file root)"))
	}
	p := filepath.Clean(filepath.FromSlash(u.Path))
	if rel, err := filepath.Rel(root, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return permanent(fmt.Errorf("file destination %s is outside the agent's destination root", p))
	}
	return nil
}

// transferError marks the transfer failures retrying cannot fix (refused
// credentials or host key, a bad URL or configuration, a forbidden
// address) as permanent; the others (server down, timeouts) are retried
// on another agent.
func transferError(err error) error {
	if errors.Is(err, transfer.ErrAuth) || errors.Is(err, transfer.ErrHostKey) ||
		errors.Is(err, transfer.ErrInvalidURL) || errors.Is(err, transfer.ErrConfig) ||
		errors.Is(err, urlpolicy.ErrForbiddenAddress) || errors.Is(err, urlpolicy.ErrScheme) {
		return permanent(err)
	}
	return err
}
