package catalog

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// PresetChecker validates a preset's encoding content (ladder name, encode
// options); the coordinator supplies it, since it owns the ladders. Its
// error wraps ErrInvalid and names the field.
type PresetChecker func(*v1.Preset) error

// ListPresets returns every preset, by name.
func (s *Store) ListPresets(ctx context.Context) ([]*v1.Preset, error) {
	resp, err := s.cli.Get(ctx, s.keys.Presets(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list presets: %w", err)
	}
	out := make([]*v1.Preset, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		p := &v1.Preset{}
		if err := proto.Unmarshal(kv.Value, p); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// GetPreset reads one preset.
func (s *Store) GetPreset(ctx context.Context, name string) (*v1.Preset, error) {
	if err := validName("name", name); err != nil {
		return nil, err
	}
	p, _, err := s.getPreset(ctx, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("preset %q: %w", name, ErrNotFound)
	}
	return p, nil
}

// getPreset reads a preset and its ModRevision (nil, 0 when absent).
func (s *Store) getPreset(ctx context.Context, name string) (*v1.Preset, int64, error) {
	resp, err := s.cli.Get(ctx, s.keys.Preset(name))
	if err != nil {
		return nil, 0, fmt.Errorf("get preset %s: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, nil
	}
	p := &v1.Preset{}
	if err := decodeInto(resp.Kvs, p); err != nil {
		return nil, 0, err
	}
	return p, resp.Kvs[0].ModRevision, nil
}

// SetPreset stores p as the next version of its name. With expected != 0
// the stored version must be expected (ErrVersion otherwise; 0 for none
// stored yet is written as expected = -1 by callers that need "create only").
func (s *Store) SetPreset(ctx context.Context, p *v1.Preset, expected int64, check PresetChecker) (*v1.Preset, error) {
	if p == nil {
		return nil, fmt.Errorf("preset: required: %w", ErrInvalid)
	}
	p = proto.Clone(p).(*v1.Preset)
	if err := validName("preset.name", p.GetName()); err != nil {
		return nil, err
	}
	if len(p.GetDescription()) > maxDescription {
		return nil, fmt.Errorf("preset.description: at most %d bytes: %w", maxDescription, ErrInvalid)
	}
	if check != nil {
		if err := check(p); err != nil {
			return nil, err
		}
	}
	for range casAttempts {
		cur, rev, err := s.getPreset(ctx, p.GetName())
		if err != nil {
			return nil, err
		}
		if expected != 0 && cur.GetVersion() != max(expected, 0) {
			return nil, fmt.Errorf("preset %q is at version %d, not %d: %w", p.GetName(), cur.GetVersion(), expected, ErrVersion)
		}
		p.Version = cur.GetVersion() + 1
		p.UpdatedAt = timestamppb.New(s.now())
		data, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("marshal preset: %w", err)
		}
		key := s.keys.Preset(p.GetName())
		resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(data))).Commit()
		if err != nil {
			return nil, fmt.Errorf("set preset %s: %w", p.GetName(), err)
		}
		if resp.Succeeded {
			return p, nil
		}
	}
	return nil, fmt.Errorf("set preset %s: %w", p.GetName(), ErrConflict)
}

// DeletePreset removes a preset.
func (s *Store) DeletePreset(ctx context.Context, name string) error {
	if err := validName("name", name); err != nil {
		return err
	}
	resp, err := s.cli.Delete(ctx, s.keys.Preset(name))
	if err != nil {
		return fmt.Errorf("delete preset %s: %w", name, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("preset %q: %w", name, ErrNotFound)
	}
	return nil
}

// ListDestinations returns every named destination, by name.
func (s *Store) ListDestinations(ctx context.Context) ([]*v1.Destination, error) {
	resp, err := s.cli.Get(ctx, s.keys.Dests(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	out := make([]*v1.Destination, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		d := &v1.Destination{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// GetDestination reads one named destination (for the transfer work).
func (s *Store) GetDestination(ctx context.Context, name string) (*v1.Destination, error) {
	resp, err := s.cli.Get(ctx, s.keys.Dest(strings.ToLower(name)))
	if err != nil {
		return nil, fmt.Errorf("get destination %s: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("destination %q: %w", name, ErrNotFound)
	}
	d := &v1.Destination{}
	return d, decodeInto(resp.Kvs, d)
}

// AddDestination creates or replaces a named destination after
// ValidateDestination.
func (s *Store) AddDestination(ctx context.Context, d *v1.Destination) (*v1.Destination, error) {
	if d == nil {
		return nil, fmt.Errorf("destination: required: %w", ErrInvalid)
	}
	if err := ValidateDestination(d); err != nil {
		return nil, err
	}
	d = proto.Clone(d).(*v1.Destination)
	d.UpdatedAt = timestamppb.New(s.now())
	data, err := proto.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("marshal destination: %w", err)
	}
	if _, err := s.cli.Put(ctx, s.keys.Dest(d.GetName()), string(data)); err != nil {
		return nil, fmt.Errorf("add destination %s: %w", d.GetName(), err)
	}
	return d, nil
}

// DeleteDestination removes a named destination.
func (s *Store) DeleteDestination(ctx context.Context, name string) error {
	if err := validName("name", name); err != nil {
		return err
	}
	resp, err := s.cli.Delete(ctx, s.keys.Dest(name))
	if err != nil {
		return fmt.Errorf("delete destination %s: %w", name, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("destination %q: %w", name, ErrNotFound)
	}
	return nil
}
