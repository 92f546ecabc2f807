package catalog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/etcdserver/etcdtest"
	"github.com/vodfleet/vodfleet/internal/ids"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// newTestStore starts an embedded etcd and returns a store on it.
func newTestStore(t *testing.T) (*Store, *clientv3.Client) {
	t.Helper()
	_, cli := etcdtest.Start(t)
	return NewStore(cli, "/t", nil, hclog.NewNullLogger()), cli
}

// serveTestService serves the catalog services over s on a loopback port
// and returns a client connection to them.
func serveTestService(t *testing.T, s *Store) *grpc.ClientConn {
	t.Helper()
	gs := grpc.NewServer()
	NewService(s, nil, nil, hclog.NewNullLogger()).Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// keysUnder lists the keys under prefix.
func keysUnder(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

func idsOf(as []*v1.Asset) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.GetId())
	}
	return out
}

func TestStoreSetShowFilterSearch(t *testing.T) {
	s, cli := newTestStore(t)
	ctx := context.Background()
	recs := []NewRecord{
		{ID: "a1", Title: "Red Car chase", Tags: []string{"Cars", "action"}, Meta: map[string]string{"lang": "en", "season": "1"}},
		{ID: "a2", Title: "Blue boat", Description: "A calm video about boats", Tags: []string{"boats"}, Meta: map[string]string{"lang": "fr"}},
		{ID: "a3", Title: "Racing cars", Tags: []string{"cars"}, Meta: map[string]string{"lang": "en"}},
	}
	for _, r := range recs {
		if _, err := s.CreateAsset(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateAsset(ctx, recs[0]); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	a, err := s.GetAsset(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if a.GetTitle() != "Red Car chase" || strings.Join(a.GetTags(), ",") != "action,cars" || a.GetState() != v1.AssetState_ASSET_STATE_PROCESSING {
		t.Fatalf("record: %v", a)
	}
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"tag", Query{Tags: []string{"cars"}}, "a1,a3"},
		{"two tags", Query{Tags: []string{"cars", "action"}}, "a1"},
		{"field", Query{Meta: map[string]string{"lang": "en"}}, "a1,a3"},
		{"tag and field", Query{Tags: []string{"cars"}, Meta: map[string]string{"season": "1"}}, "a1"},
		{"word in description", Query{Search: "BOATS"}, "a2"},
		{"two words", Query{Search: "red chase"}, "a1"},
		{"prefix", Query{Search: "car*"}, "a1,a3"},
		{"no match", Query{Search: "car"}, "a1"},
		{"state", Query{State: v1.AssetState_ASSET_STATE_PROCESSING}, "a1,a2,a3"},
		{"state none", Query{State: v1.AssetState_ASSET_STATE_READY}, ""},
		{"all", Query{}, "a1,a2,a3"},
	}
	for _, c := range cases {
		got, next, err := s.Search(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if strings.Join(idsOf(got), ",") != c.want || next != "" {
			t.Errorf("%s: got %v (next %q), want %s", c.name, idsOf(got), next, c.want)
		}
	}

	// Changing tags, fields and title moves their index keys.
	title := "Green tractor"
	if _, err := s.UpdateAsset(ctx, "a1", Update{Title: &title, Tags: []string{"farm"}, SetTags: true,
		Meta: map[string]string{"season": ""}}); err != nil {
		t.Fatal(err)
	}
	idx := strings.Join(keysUnder(t, cli, "/t/catalog/i/"), "\n")
	for _, gone := range []string{"/i/tag/cars/a1", "/i/tag/action/a1", "/i/meta/season/1/a1", "/i/word/red/a1", "/i/word/chase/a1"} {
		if strings.Contains(idx, gone) {
			t.Errorf("index key %s left after the update:\n%s", gone, idx)
		}
	}
	for _, kept := range []string{"/i/tag/farm/a1", "/i/meta/lang/en/a1", "/i/word/tractor/a1", "/i/state/1/a1"} {
		if !strings.Contains(idx, kept) {
			t.Errorf("index key %s missing:\n%s", kept, idx)
		}
	}
	got, _, err := s.Search(ctx, Query{Tags: []string{"cars"}})
	if err != nil || strings.Join(idsOf(got), ",") != "a3" {
		t.Fatalf("cars after update: %v %v", idsOf(got), err)
	}
	got, _, _ = s.Search(ctx, Query{Search: "tractor"})
	if strings.Join(idsOf(got), ",") != "a1" {
		t.Fatalf("tractor: %v", idsOf(got))
	}

	// The leader's write of the pipeline part moves the state index.
	ops, err := FactsOps(s.Keys(), &v1.Asset{Id: "a3", State: v1.AssetState_ASSET_STATE_READY,
		Source: &v1.SourceFacts{Width: 320}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Search(ctx, Query{State: v1.AssetState_ASSET_STATE_READY})
	if strings.Join(idsOf(got), ",") != "a3" || got[0].GetSource().GetWidth() != 320 || got[0].GetTitle() != "Racing cars" {
		t.Fatalf("ready: %v", got)
	}
	got, _, _ = s.Search(ctx, Query{State: v1.AssetState_ASSET_STATE_PROCESSING})
	if strings.Join(idsOf(got), ",") != "a1,a2" {
		t.Fatalf("processing: %v", idsOf(got))
	}
}

func TestStorePaginate(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	var want []string
	for i := range 23 {
		id := fmt.Sprintf("p%02d", i)
		tags := []string{"odd"}
		if i%2 == 0 {
			tags = []string{"even"}
		}
		if _, err := s.CreateAsset(ctx, NewRecord{ID: id, Title: "clip number " + id, Tags: tags}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			want = append(want, id)
		}
	}
	for _, q := range []Query{{Tags: []string{"even"}}, {Search: "clip", Meta: nil, Tags: []string{"even"}}} {
		var got []string
		q.Limit = 5
		pages := 0
		for {
			page, next, err := s.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, idsOf(page)...)
			if next == "" {
				break
			}
			q.PageToken = next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
			t.Fatalf("pages %d: %v, want %v", pages, got, want)
		}
	}
	// Search driven by a word, filtered by tag.
	page, next, err := s.Search(ctx, Query{Search: "clip", Tags: nil, Limit: 4})
	if err != nil || len(page) != 4 || next == "" {
		t.Fatalf("word page: %v %q %v", idsOf(page), next, err)
	}
	if _, _, err := s.Search(ctx, Query{PageToken: "!!"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad token: %v", err)
	}
}

func TestValidationNamesField(t *testing.T) {
	s, cli := newTestStore(t)
	ctx := context.Background()
	cases := []struct {
		rec   NewRecord
		field string
	}{
		{NewRecord{ID: "x", Tags: []string{"bad tag"}}, "tags[0]"},
		{NewRecord{ID: "x", Meta: map[string]string{"Bad Key": "v"}}, "meta"},
		{NewRecord{ID: "x", Meta: map[string]string{"k": strings.Repeat("v", 300)}}, "meta.k"},
		{NewRecord{ID: "x", Title: strings.Repeat("t", 300)}, "title"},
	}
	for _, c := range cases {
		_, err := s.CreateAsset(ctx, c.rec)
		if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("%+v: %v, want an error naming %s", c.rec, err, c.field)
		}
	}
	for _, d := range []struct {
		d     *v1.Destination
		field string
	}{
		{&v1.Destination{Name: "Bad Name", Url: "s3://b/p"}, "destination.name"},
		{&v1.Destination{Name: "d", Url: "gopher://h/x"}, "destination.url"},
		{&v1.Destination{Name: "d", Url: "sftp://u:hunter2pw@h/x"}, "destination.url"},
		{&v1.Destination{Name: "d", Url: "s3://b/p", Options: map[string]string{"secret_key": "hunter2sk"}}, "destination.options.secret_key"},
	} {
		_, err := s.AddDestination(ctx, d.d)
		if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), d.field) {
			t.Errorf("%v: %v, want an error naming %s", d.d, err, d.field)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
	// Nothing of a refused secret reached etcd.
	resp, err := cli.Get(ctx, "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Key)+string(kv.Value), "hunter2") {
			t.Errorf("secret stored under %s", kv.Key)
		}
	}
}

func TestPresetsAndDestinations(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p := &v1.Preset{Name: "web", Encode: &v1.EncodeOptions{Renditions: []*v1.RenditionRequest{{Height: 180}}}}
	got, err := s.SetPreset(ctx, p, 0, nil)
	if err != nil || got.GetVersion() != 1 {
		t.Fatalf("first set: %v %v", got, err)
	}
	p.Description = "v2"
	if got, err = s.SetPreset(ctx, p, 1, nil); err != nil || got.GetVersion() != 2 {
		t.Fatalf("second set: %v %v", got, err)
	}
	if _, err := s.SetPreset(ctx, p, 1, nil); !errors.Is(err, ErrVersion) {
		t.Fatalf("stale expected version: %v", err)
	}
	checker := func(*v1.Preset) error { return fmt.Errorf("preset.encode: nope: %w", ErrInvalid) }
	if _, err := s.SetPreset(ctx, p, 0, checker); !errors.Is(err, ErrInvalid) {
		t.Fatalf("checker: %v", err)
	}
	ps, err := s.ListPresets(ctx)
	if err != nil || len(ps) != 1 || ps[0].GetVersion() != 2 || ps[0].GetDescription() != "v2" {
		t.Fatalf("list: %v %v", ps, err)
	}
	if err := s.DeletePreset(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPreset(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.AddDestination(ctx, &v1.Destination{Name: "cdn", Url: "s3://bucket/vod", Options: map[string]string{"region": "eu"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDestination(ctx, &v1.Destination{Name: "archive", Url: "file:///srv/vod"}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ListDestinations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.GetName())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "archive,cdn" {
		t.Fatalf("destinations: %v", names)
	}
	if err := s.DeleteDestination(ctx, "cdn"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDestination(ctx, "cdn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestServiceInvalidArgument calls the gRPC services over loopback with
// malformed requests.
func TestServiceInvalidArgument(t *testing.T) {
	s, _ := newTestStore(t)
	conn := serveTestService(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.CreateAsset(ctx, NewRecord{ID: "x1", Title: "t"}); err != nil {
		t.Fatal(err)
	}
	cat, pre, dst := v1.NewCatalogServiceClient(conn), v1.NewPresetServiceClient(conn), v1.NewDestinationServiceClient(conn)
	calls := map[string]func() error{
		"update bad mask": func() error {
			_, err := cat.UpdateAsset(ctx, &v1.UpdateAssetRequest{Asset: &v1.Asset{Id: "x1"}, UpdateMask: []string{"state"}})
			return err
		},
		"update bad tag": func() error {
			_, err := cat.UpdateAsset(ctx, &v1.UpdateAssetRequest{Asset: &v1.Asset{Id: "x1", Tags: []string{"a b"}}, UpdateMask: []string{"tags"}})
			return err
		},
		"update no id": func() error { _, err := cat.UpdateAsset(ctx, &v1.UpdateAssetRequest{}); return err },
		"search limit": func() error {
			_, err := cat.SearchAssets(ctx, &v1.SearchAssetsRequest{Limit: 5000})
			return err
		},
		"search token": func() error {
			_, err := cat.SearchAssets(ctx, &v1.SearchAssetsRequest{PageToken: "%%%"})
			return err
		},
		"get no id":      func() error { _, err := cat.GetAsset(ctx, &v1.GetAssetRequest{}); return err },
		"preset no body": func() error { _, err := pre.SetPreset(ctx, &v1.SetPresetRequest{}); return err },
		"preset bad name": func() error {
			_, err := pre.SetPreset(ctx, &v1.SetPresetRequest{Preset: &v1.Preset{Name: "../x"}})
			return err
		},
		"dest bad url": func() error {
			_, err := dst.AddDestination(ctx, &v1.AddDestinationRequest{Destination: &v1.Destination{Name: "d", Url: "::"}})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := cat.GetAsset(ctx, &v1.GetAssetRequest{AssetId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("missing asset: %v", err)
	}
	resp, err := cat.UpdateAsset(ctx, &v1.UpdateAssetRequest{Asset: &v1.Asset{Id: "x1", Meta: map[string]string{"k": "v"}}, UpdateMask: []string{"meta.k"}})
	if err != nil || resp.GetAsset().GetMeta()["k"] != "v" || resp.GetAsset().GetTitle() != "t" {
		t.Fatalf("update meta.k: %v %v", resp, err)
	}
}

// TestPaginateTimeIDsInWindows pages over real-shaped ids spread from
// bursts (many per second) to gaps of weeks, so the scanner's windows
// narrow and gallop; every page must come out in order with nothing lost.
func TestPaginateTimeIDsInWindows(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	gen := ids.TimeRandom{Now: func() time.Time { return now }}
	var want []string
	for i := range 150 {
		switch {
		case i%50 == 49:
			now = now.Add(21 * 24 * time.Hour)
		case i%7 == 0:
			now = now.Add(3 * time.Hour)
		default:
			now = now.Add(time.Duration(i%5) * time.Millisecond)
		}
		id := gen.New()
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "third")
			want = append(want, id)
		}
		if _, err := s.CreateAsset(ctx, NewRecord{ID: id, Title: "x", Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(want)
	for _, limit := range []int{1, 4, 50} {
		var got []string
		q := Query{Tags: []string{"third"}, Limit: limit}
		for {
			page, next, err := s.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, idsOf(page)...)
			if next == "" {
				break
			}
			q.PageToken = next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("limit %d: got %d ids, want %d\n%v\n%v", limit, len(got), len(want), got, want)
		}
	}
	// A filtered scan (tag all, driven by it, filtered by search) too.
	page, _, err := s.Search(ctx, Query{Tags: []string{"all", "third"}, Limit: 1000})
	if err != nil || strings.Join(idsOf(page), ",") != strings.Join(want, ",") {
		t.Fatalf("filtered: %d ids, %v", len(page), err)
	}
}
