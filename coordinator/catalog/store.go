// Package catalog keeps asset records, presets and named destinations in
// etcd, so that losing any coordinator loses nothing. Asset records have
// index keys (tag, field value, word, state) so that filters range over
// one index instead of scanning every asset; see keys.go for the layout.
package catalog

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// maxTxnOps keeps a transaction under etcd's default --max-txn-ops (128).
const maxTxnOps = 120

// casAttempts bounds retries of a compare-and-swap that keeps losing.
const casAttempts = 8

// Store reads and writes the catalog. Any coordinator may use it: the
// client part of a record is written with compare-and-swap on its
// revision, the pipeline part only by the leader (see FactsOps).
type Store struct {
	cli  *clientv3.Client
	keys Keys
	now  func() time.Time
	log  hclog.Logger
	// hints are the index scan window widths (scan.go).
	hints windowHints
}

// NewStore returns a store under the coordinator's etcd prefix. now is the
// clock for created/updated times (time.Now when nil).
func NewStore(cli *clientv3.Client, prefix string, now func() time.Time, log hclog.Logger) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{cli: cli, keys: NewKeys(prefix), now: now, log: log.Named("catalog")}
}

// Keys returns the key layout (the leader uses it for its fenced writes).
func (s *Store) Keys() Keys { return s.keys }

// NewRecord is the client part given at submit.
type NewRecord struct {
	// ID is the asset id; JobID the job that makes it (equal today).
	ID, JobID string
	// Title, Description, Tags and Meta are the client's fields (checked by
	// CheckNew).
	Title, Description string
	Tags               []string
	Meta               map[string]string
	// Preset and PresetVersion name the stored preset the job copied, if
	// any; Ladder the built-in ladder name it uses.
	Preset        string
	PresetVersion int64
	Ladder        string
}

// CheckNew normalizes and validates r's client fields.
func (r *NewRecord) CheckNew() error {
	r.Tags = NormalizeTags(r.Tags)
	return ValidateUserFields(r.Title, r.Description, r.Tags, r.Meta)
}

// CreateAsset writes a new record (state PROCESSING) with its index keys in
// one transaction; it fails with ErrConflict if the asset exists.
func (s *Store) CreateAsset(ctx context.Context, r NewRecord) (*v1.Asset, error) {
	facts := &v1.Asset{Id: r.ID, State: v1.AssetState_ASSET_STATE_PROCESSING, UpdatedAt: timestamppb.New(s.now())}
	user, ops, err := s.CreateOps(r, facts)
	if err != nil {
		return nil, err
	}
	ok, err := s.commit(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.keys.Record(r.ID)), "=", 0)}, ops)
	if err != nil {
		return nil, fmt.Errorf("create asset %s: %w", r.ID, err)
	}
	if !ok {
		return nil, fmt.Errorf("asset %s exists: %w", r.ID, ErrConflict)
	}
	return merge(user, facts), nil
}

// CreateOps validates r and returns its client part and the operations
// that store a new record (both parts and every index key). CreateAsset
// runs them guarded by the record's absence; bulk loaders (the catalog
// benchmark) batch several records' operations into one transaction.
func (s *Store) CreateOps(r NewRecord, facts *v1.Asset) (*v1.Asset, []clientv3.Op, error) {
	if err := r.CheckNew(); err != nil {
		return nil, nil, err
	}
	now := timestamppb.New(s.now())
	user := &v1.Asset{Id: r.ID, JobId: r.JobID, Title: r.Title, Description: r.Description,
		Tags: r.Tags, Meta: r.Meta, Preset: r.Preset, PresetVersion: r.PresetVersion, Ladder: r.Ladder,
		CreatedAt: now, UpdatedAt: now}
	ops, err := s.recordOps(user, nil)
	if err != nil {
		return nil, nil, err
	}
	fops, err := FactsOps(s.keys, facts)
	if err != nil {
		return nil, nil, err
	}
	return user, append(ops, fops...), nil
}

// DeleteAsset removes a record and its index keys in one transaction
// (split only when a record has more keys than one transaction takes, like
// every write, see commit); CatalogService.DeleteAsset uses it. A record
// still PROCESSING is refused with ErrBusy: its job's final write would
// bring back half a record.
func (s *Store) DeleteAsset(ctx context.Context, id string) error {
	return s.deleteAsset(ctx, id, false)
}

// DiscardAsset removes a record whatever its state: submit uses it when
// the job the record was made for could not be recorded.
func (s *Store) DiscardAsset(ctx context.Context, id string) error {
	return s.deleteAsset(ctx, id, true)
}

// deleteAsset deletes the record as read, guarded by both parts'
// revisions, so a state change between the read and the delete (the
// leader finishing or re-running the job) is seen and re-checked.
func (s *Store) deleteAsset(ctx context.Context, id string, force bool) error {
	if id == "" {
		return fmt.Errorf("asset_id: required: %w", ErrInvalid)
	}
	for range casAttempts {
		got, err := s.getMany(ctx, []string{id}, false)
		if err != nil {
			return err
		}
		f := got[0]
		if f == nil {
			return fmt.Errorf("asset %s: %w", id, ErrNotFound)
		}
		a := f.merged
		if !force && a.GetState() == v1.AssetState_ASSET_STATE_PROCESSING {
			return fmt.Errorf("asset %s is still being made by job %s; cancel the job or wait for it to end: %w", id, a.GetJobId(), ErrBusy)
		}
		ops := []clientv3.Op{clientv3.OpDelete(s.keys.Record(id)), clientv3.OpDelete(s.keys.Facts(id))}
		for _, k := range s.keys.recordIndex(a) {
			ops = append(ops, clientv3.OpDelete(k))
		}
		put, del := s.keys.StateKeys(id, a.GetState())
		for _, k := range append(del, put) {
			ops = append(ops, clientv3.OpDelete(k))
		}
		ok, err := s.commit(ctx, []clientv3.Cmp{
			clientv3.Compare(clientv3.ModRevision(s.keys.Record(id)), "=", f.userRev),
			clientv3.Compare(clientv3.ModRevision(s.keys.Facts(id)), "=", f.factsRev),
		}, ops)
		if err != nil {
			return fmt.Errorf("delete asset %s: %w", id, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("delete asset %s: %w", id, ErrConflict)
}

// FactsOps are the operations that store the pipeline part of a record and
// its state index; the leader adds them to the fenced transaction that
// finishes the job, so they are atomic with it and need no re-apply.
func FactsOps(k Keys, facts *v1.Asset) ([]clientv3.Op, error) {
	data, err := proto.Marshal(facts)
	if err != nil {
		return nil, fmt.Errorf("marshal asset facts: %w", err)
	}
	put, del := k.StateKeys(facts.GetId(), facts.GetState())
	ops := []clientv3.Op{clientv3.OpPut(k.Facts(facts.GetId()), string(data))}
	if put != "" {
		ops = append(ops, clientv3.OpPut(put, ""))
	}
	for _, d := range del {
		ops = append(ops, clientv3.OpDelete(d))
	}
	return ops, nil
}

// recordOps stores user (the client part) and moves its index keys from
// old's (nil for a new record): removed tags, fields and words delete
// their keys, new ones are put.
func (s *Store) recordOps(user, old *v1.Asset) ([]clientv3.Op, error) {
	data, err := proto.Marshal(user)
	if err != nil {
		return nil, fmt.Errorf("marshal asset: %w", err)
	}
	ops := []clientv3.Op{clientv3.OpPut(s.keys.Record(user.GetId()), string(data))}
	want := map[string]bool{}
	for _, k := range s.keys.recordIndex(user) {
		want[k] = true
	}
	have := map[string]bool{}
	if old != nil {
		for _, k := range s.keys.recordIndex(old) {
			have[k] = true
		}
	}
	var puts, dels []string
	for k := range want {
		if !have[k] {
			puts = append(puts, k)
		}
	}
	for k := range have {
		if !want[k] {
			dels = append(dels, k)
		}
	}
	sort.Strings(puts)
	sort.Strings(dels)
	for _, k := range puts {
		ops = append(ops, clientv3.OpPut(k, ""))
	}
	for _, k := range dels {
		ops = append(ops, clientv3.OpDelete(k))
	}
	return ops, nil
}

// commit runs ops in one transaction guarded by cmps. A write too large for
// one transaction (a record with very many tags, fields and words) puts
// the record and the first keys in the guarded one and the rest in
// follow-up transactions; readers check candidates against the record, so
// an index key that is briefly missing or stale never gives a wrong answer.
func (s *Store) commit(ctx context.Context, cmps []clientv3.Cmp, ops []clientv3.Op) (bool, error) {
	first := ops
	if len(first)+len(cmps) > maxTxnOps {
		first = ops[:maxTxnOps-len(cmps)]
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(first...).Commit()
	if err != nil {
		return false, err
	}
	if !resp.Succeeded {
		return false, nil
	}
	for rest := ops[len(first):]; len(rest) > 0; {
		n := min(len(rest), maxTxnOps)
		if _, err := s.cli.Txn(ctx).Then(rest[:n]...).Commit(); err != nil {
			return true, err
		}
		rest = rest[n:]
	}
	return true, nil
}

// GetAsset reads one record (both parts).
func (s *Store) GetAsset(ctx context.Context, id string) (*v1.Asset, error) {
	if id == "" {
		return nil, fmt.Errorf("asset_id: required: %w", ErrInvalid)
	}
	got, err := s.getMany(ctx, []string{id}, false)
	if err != nil {
		return nil, err
	}
	if got[0] == nil {
		return nil, fmt.Errorf("asset %s: %w", id, ErrNotFound)
	}
	return got[0].merged, nil
}

// fetched is one record as read, with the client part's revision.
type fetched struct {
	user, facts, merged *v1.Asset
	// userRev and factsRev are the parts' ModRevisions (0 when absent).
	userRev, factsRev int64
}

// getMany reads the records of ids in transactions of point reads; a
// missing record is nil. serializable reads are served by the local etcd
// member without a round of the consensus (possibly a little behind the
// leader's latest write), which is what listings use.
func (s *Store) getMany(ctx context.Context, ids []string, serializable bool) ([]*fetched, error) {
	var opts []clientv3.OpOption
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	out := make([]*fetched, 0, len(ids))
	for start := 0; start < len(ids); start += maxTxnOps / 2 {
		batch := ids[start:min(len(ids), start+maxTxnOps/2)]
		ops := make([]clientv3.Op, 0, 2*len(batch))
		for _, id := range batch {
			ops = append(ops, clientv3.OpGet(s.keys.Record(id), opts...), clientv3.OpGet(s.keys.Facts(id), opts...))
		}
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return nil, fmt.Errorf("read assets: %w", err)
		}
		for i, id := range batch {
			uk, fk := resp.Responses[2*i].GetResponseRange().Kvs, resp.Responses[2*i+1].GetResponseRange().Kvs
			if len(uk) == 0 && len(fk) == 0 {
				out = append(out, nil)
				continue
			}
			f := &fetched{user: &v1.Asset{Id: id}, facts: &v1.Asset{Id: id}}
			if err := decodeInto(uk, f.user); err != nil {
				return nil, err
			}
			if err := decodeInto(fk, f.facts); err != nil {
				return nil, err
			}
			if len(uk) > 0 {
				f.userRev = uk[0].ModRevision
			}
			if len(fk) > 0 {
				f.factsRev = fk[0].ModRevision
			}
			f.merged = merge(f.user, f.facts)
			out = append(out, f)
		}
	}
	return out, nil
}

// decodeInto decodes the first kv, if any, into m.
func decodeInto(kvs []*mvccpb.KeyValue, m proto.Message) error {
	if len(kvs) == 0 {
		return nil
	}
	if err := proto.Unmarshal(kvs[0].Value, m); err != nil {
		return fmt.Errorf("decode %s: %w", kvs[0].Key, err)
	}
	return nil
}

// merge joins a record's client and pipeline parts.
func merge(user, facts *v1.Asset) *v1.Asset {
	a := proto.Clone(user).(*v1.Asset)
	a.State = facts.GetState()
	a.Source = facts.GetSource()
	a.Renditions = facts.GetRenditions()
	a.Outputs = facts.GetOutputs()
	a.SizeBytes = facts.GetSizeBytes()
	a.Destinations = facts.GetDestinations()
	a.Error = facts.GetError()
	if a.GetJobId() == "" {
		a.JobId = facts.GetJobId()
	}
	if a.GetCreatedAt() == nil {
		a.CreatedAt = facts.GetCreatedAt()
	}
	if a.GetUpdatedAt() == nil || (facts.GetUpdatedAt() != nil && facts.GetUpdatedAt().AsTime().After(a.GetUpdatedAt().AsTime())) {
		a.UpdatedAt = facts.GetUpdatedAt()
	}
	return a
}

// Update is a change to the client part of a record.
type Update struct {
	// Title and Description, when non-nil, replace the record's.
	Title, Description *string
	// Tags replaces the tags when SetTags (nil then clears them).
	Tags []string
	// Meta replaces the fields when ReplaceMeta, else sets each (an empty
	// value removes the field).
	Meta        map[string]string
	ReplaceMeta bool
	// SetTags says Tags is given.
	SetTags bool
}

// UpdateAsset applies u to a record with compare-and-swap, moving its index
// keys in the same transaction.
func (s *Store) UpdateAsset(ctx context.Context, id string, u Update) (*v1.Asset, error) {
	for range casAttempts {
		got, err := s.getMany(ctx, []string{id}, false)
		if err != nil {
			return nil, err
		}
		if got[0] == nil {
			return nil, fmt.Errorf("asset %s: %w", id, ErrNotFound)
		}
		old := got[0].user
		next := proto.Clone(old).(*v1.Asset)
		if u.Title != nil {
			next.Title = *u.Title
		}
		if u.Description != nil {
			next.Description = *u.Description
		}
		if u.SetTags {
			next.Tags = NormalizeTags(u.Tags)
		}
		if u.ReplaceMeta {
			next.Meta = map[string]string{}
		}
		if u.Meta != nil && next.Meta == nil {
			next.Meta = map[string]string{}
		}
		for k, v := range u.Meta {
			if v == "" && !u.ReplaceMeta {
				delete(next.Meta, k)
				continue
			}
			next.Meta[k] = v
		}
		if err := ValidateUserFields(next.GetTitle(), next.GetDescription(), next.GetTags(), next.GetMeta()); err != nil {
			return nil, err
		}
		next.UpdatedAt = timestamppb.New(s.now())
		if next.CreatedAt == nil {
			next.CreatedAt = got[0].facts.GetCreatedAt()
		}
		ops, err := s.recordOps(next, old)
		if err != nil {
			return nil, err
		}
		ok, err := s.commit(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.keys.Record(id)), "=", got[0].userRev)}, ops)
		if err != nil {
			return nil, fmt.Errorf("update asset %s: %w", id, err)
		}
		if ok {
			return merge(next, got[0].facts), nil
		}
	}
	return nil, fmt.Errorf("update asset %s: %w", id, ErrConflict)
}
