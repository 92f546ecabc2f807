package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestServiceDeleteAsset deletes a ready record with tags, fields and words
// over gRPC: every key of it goes (record, facts, tag, field, word and
// state index), another record's keys stay, and a second delete is
// NotFound.
func TestServiceDeleteAsset(t *testing.T) {
	s, cli := newTestStore(t)
	conn := serveTestService(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	put := func(id, title string, tags []string, meta map[string]string) {
		t.Helper()
		_, ops, err := s.CreateOps(NewRecord{ID: id, JobID: id, Title: title, Tags: tags, Meta: meta},
			&v1.Asset{Id: id, State: v1.AssetState_ASSET_STATE_READY})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put("d1", "Harbour lights", []string{"sea", "night"}, map[string]string{"client": "acme"})
	put("k1", "Harbour cranes", []string{"sea"}, map[string]string{"client": "acme"})
	root := s.Keys().root
	before := keysUnder(t, cli, root)
	var ofD1 int
	for _, k := range before {
		if strings.HasSuffix(k, "/d1") {
			ofD1++
		}
	}
	// record, facts, 2 tags, 1 field, 2 words, state.
	if ofD1 < 8 {
		t.Fatalf("d1 has %d keys before the delete, want at least 8: %v", ofD1, before)
	}

	cat := v1.NewCatalogServiceClient(conn)
	if _, err := cat.DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{AssetId: "d1"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	after := keysUnder(t, cli, root)
	for _, k := range after {
		if strings.HasSuffix(k, "/d1") {
			t.Errorf("key %s of the deleted record remains", k)
		}
	}
	if len(after) != len(before)-ofD1 {
		t.Errorf("%d keys after the delete, want %d (only d1's removed)", len(after), len(before)-ofD1)
	}
	if _, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: "d1"}); status.Code(err) != codes.NotFound {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
	got, _, err := s.Search(ctx, Query{Tags: []string{"sea"}, Search: "harbour"})
	if err != nil || strings.Join(idsOf(got), ",") != "k1" {
		t.Errorf("search after delete: %v %v, want [k1]", idsOf(got), err)
	}
	if _, err := cat.DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{AssetId: "d1"}); status.Code(err) != codes.NotFound {
		t.Errorf("second delete: %v, want NotFound", err)
	}
	if _, err := cat.DeleteAsset(ctx, &v1.CatalogServiceDeleteAssetRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("delete without id: %v, want InvalidArgument", err)
	}
}

// TestDeleteRefusesWhileProcessing: a record whose job still runs is not
// deleted (the job's final write would bring back half a record); the
// error says why and what to do, the record stays whole, and once the job
// is over the delete goes through. DiscardAsset, submit's rollback,
// removes a PROCESSING record.
func TestDeleteRefusesWhileProcessing(t *testing.T) {
	s, cli := newTestStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.CreateAsset(ctx, NewRecord{ID: "p1", JobID: "p1", Title: "Running", Tags: []string{"live"}}); err != nil {
		t.Fatal(err)
	}
	err := s.DeleteAsset(ctx, "p1")
	if !errors.Is(err, ErrBusy) || status.Code(toStatus(err)) != codes.FailedPrecondition || !strings.Contains(err.Error(), "cancel the job") {
		t.Fatalf("delete while processing: %v, want FailedPrecondition naming the job", err)
	}
	if a, err := s.GetAsset(ctx, "p1"); err != nil || a.GetTitle() != "Running" {
		t.Fatalf("record after the refused delete: %v %v", a, err)
	}
	// The leader finishes the job: the facts part turns READY.
	ops, err := FactsOps(s.Keys(), &v1.Asset{Id: "p1", State: v1.AssetState_ASSET_STATE_READY})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAsset(ctx, "p1"); err != nil {
		t.Fatalf("delete after the job ended: %v", err)
	}
	if keys := keysUnder(t, cli, s.Keys().root); len(keys) != 0 {
		t.Errorf("keys left after the delete: %v", keys)
	}
	if _, err := s.CreateAsset(ctx, NewRecord{ID: "p2", JobID: "p2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DiscardAsset(ctx, "p2"); err != nil {
		t.Fatalf("discard: %v", err)
	}
	if _, err := s.GetAsset(ctx, "p2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after discard: %v, want not found", err)
	}
}
