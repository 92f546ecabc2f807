package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Service implements the CatalogService, PresetService and
// DestinationService on any coordinator, over a Store.
type Service struct {
	v1.UnimplementedCatalogServiceServer
	v1.UnimplementedPresetServiceServer
	v1.UnimplementedDestinationServiceServer
	store *Store
	check PresetChecker
	inUse UseChecker
	log   hclog.Logger
}

// UseChecker returns an error wrapping ErrBusy when a job still uses the
// asset (its first job, a reencode or a transfer still running): its
// final write would bring back part of a deleted record.
type UseChecker func(ctx context.Context, assetID string) error

// NewService returns the services over store; check validates presets'
// encoding content and inUse guards deletes (either may be nil).
func NewService(store *Store, check PresetChecker, inUse UseChecker, log hclog.Logger) *Service {
	return &Service{store: store, check: check, inUse: inUse, log: log.Named("catalog")}
}

// Register adds the three services to s.
func (sv *Service) Register(s *grpc.Server) {
	v1.RegisterCatalogServiceServer(s, sv)
	v1.RegisterPresetServiceServer(s, sv)
	v1.RegisterDestinationServiceServer(s, sv)
}

// GetAsset returns one record.
func (sv *Service) GetAsset(ctx context.Context, req *v1.GetAssetRequest) (*v1.GetAssetResponse, error) {
	a, err := sv.store.GetAsset(ctx, req.GetAssetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.GetAssetResponse{Asset: a}, nil
}

// UpdateAsset applies the fields named in update_mask.
func (sv *Service) UpdateAsset(ctx context.Context, req *v1.UpdateAssetRequest) (*v1.UpdateAssetResponse, error) {
	a := req.GetAsset()
	if a.GetId() == "" {
		return nil, toStatus(fmt.Errorf("asset.id: required: %w", ErrInvalid))
	}
	u, err := updateFromMask(a, req.GetUpdateMask())
	if err != nil {
		return nil, toStatus(err)
	}
	out, err := sv.store.UpdateAsset(ctx, a.GetId(), u)
	if err != nil {
		return nil, toStatus(err)
	}
	sv.log.Debug("asset updated", "asset", a.GetId(), "mask", req.GetUpdateMask())
	return &v1.UpdateAssetResponse{Asset: out}, nil
}

// updateFromMask turns an UpdateAsset request into an Update.
func updateFromMask(a *v1.Asset, mask []string) (Update, error) {
	if len(mask) == 0 {
		mask = []string{"title", "description", "tags", "meta"}
	}
	var u Update
	for i, m := range mask {
		switch {
		case m == "title":
			u.Title = &a.Title
		case m == "description":
			u.Description = &a.Description
		case m == "tags":
			u.Tags, u.SetTags = a.GetTags(), true
		case m == "meta":
			u.Meta, u.ReplaceMeta = a.GetMeta(), true
		case strings.HasPrefix(m, "meta."):
			if u.ReplaceMeta {
				return u, fmt.Errorf("update_mask[%d]: %q together with \"meta\": %w", i, m, ErrInvalid)
			}
			k := strings.TrimPrefix(m, "meta.")
			if !keyRE.MatchString(k) {
				return u, fmt.Errorf("meta: key %q (update_mask[%d]) must be 1-64 characters of [a-z0-9._-]: %w", k, i, ErrInvalid)
			}
			if u.Meta == nil {
				u.Meta = map[string]string{}
			}
			u.Meta[k] = a.GetMeta()[k]
		default:
			return u, fmt.Errorf("update_mask[%d]: %q is not one of title, description, tags, meta, meta.KEY: %w", i, m, ErrInvalid)
		}
	}
	return u, nil
}

// DeleteAsset removes a record and its index keys; the asset's files are
// the storage nodes' (the CLI deletes both). An asset a job still uses is
// refused with FailedPrecondition.
func (sv *Service) DeleteAsset(ctx context.Context, req *v1.CatalogServiceDeleteAssetRequest) (*v1.CatalogServiceDeleteAssetResponse, error) {
	if sv.inUse != nil && req.GetAssetId() != "" {
		if err := sv.inUse(ctx, req.GetAssetId()); err != nil {
			return nil, toStatus(err)
		}
	}
	if err := sv.store.DeleteAsset(ctx, req.GetAssetId()); err != nil {
		return nil, toStatus(err)
	}
	sv.log.Info("asset record deleted", "asset", req.GetAssetId())
	return &v1.CatalogServiceDeleteAssetResponse{}, nil
}

// SearchAssets lists one page of matching assets.
func (sv *Service) SearchAssets(ctx context.Context, req *v1.SearchAssetsRequest) (*v1.SearchAssetsResponse, error) {
	assets, next, err := sv.store.Search(ctx, Query{Tags: req.GetTags(), Meta: req.GetMeta(), State: req.GetState(),
		Search: req.GetSearch(), Limit: int(req.GetLimit()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.SearchAssetsResponse{Assets: assets, NextPageToken: next}, nil
}

// ListPresets returns every preset.
func (sv *Service) ListPresets(ctx context.Context, _ *v1.ListPresetsRequest) (*v1.ListPresetsResponse, error) {
	ps, err := sv.store.ListPresets(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.ListPresetsResponse{Presets: ps}, nil
}

// GetPreset returns one preset.
func (sv *Service) GetPreset(ctx context.Context, req *v1.GetPresetRequest) (*v1.GetPresetResponse, error) {
	p, err := sv.store.GetPreset(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.GetPresetResponse{Preset: p}, nil
}

// SetPreset stores the next version of a preset.
func (sv *Service) SetPreset(ctx context.Context, req *v1.SetPresetRequest) (*v1.SetPresetResponse, error) {
	p, err := sv.store.SetPreset(ctx, req.GetPreset(), req.GetExpectedVersion(), sv.check)
	if err != nil {
		return nil, toStatus(err)
	}
	sv.log.Info("preset stored", "preset", p.GetName(), "version", p.GetVersion())
	return &v1.SetPresetResponse{Preset: p}, nil
}

// DeletePreset removes a preset.
func (sv *Service) DeletePreset(ctx context.Context, req *v1.DeletePresetRequest) (*v1.DeletePresetResponse, error) {
	if err := sv.store.DeletePreset(ctx, req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	sv.log.Info("preset deleted", "preset", req.GetName())
	return &v1.DeletePresetResponse{}, nil
}

// ListDestinations returns every named destination.
func (sv *Service) ListDestinations(ctx context.Context, _ *v1.ListDestinationsRequest) (*v1.ListDestinationsResponse, error) {
	ds, err := sv.store.ListDestinations(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.ListDestinationsResponse{Destinations: ds}, nil
}

// AddDestination stores a named destination.
func (sv *Service) AddDestination(ctx context.Context, req *v1.AddDestinationRequest) (*v1.AddDestinationResponse, error) {
	d, err := sv.store.AddDestination(ctx, req.GetDestination())
	if err != nil {
		return nil, toStatus(err)
	}
	sv.log.Info("destination stored", "destination", d.GetName())
	return &v1.AddDestinationResponse{Destination: d}, nil
}

// DeleteDestination removes a named destination.
func (sv *Service) DeleteDestination(ctx context.Context, req *v1.DeleteDestinationRequest) (*v1.DeleteDestinationResponse, error) {
	if err := sv.store.DeleteDestination(ctx, req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	sv.log.Info("destination deleted", "destination", req.GetName())
	return &v1.DeleteDestinationResponse{}, nil
}
