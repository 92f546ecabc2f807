package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc/codes"

	vodfleetv1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// assetStore opens a test store with node id "node-1".
func assetStore(t *testing.T) *Store {
	t.Helper()
	cfg := testConfig(t)
	cfg.NodeID = "node-1"
	return openStore(t, cfg)
}

// wantAssets checks ListAssets against want ("id:objects:bytes" joined by
// commas) and against the objects List actually returns, so the records
// never drift from the index.
func wantAssets(t *testing.T, s *Store, want string) {
	t.Helper()
	assets, err := s.ListAssets("", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range assets {
		got = append(got, fmt.Sprintf("%s:%d:%d", a.ID, a.Objects, a.Bytes))
		objs, err := s.List(assetObjects(a.ID), "", s.cfg.MaxListLimit)
		if err != nil {
			t.Fatal(err)
		}
		var bytes int64
		for _, o := range objs {
			bytes += o.Size
		}
		if int64(len(objs)) != a.Objects || bytes != a.Bytes {
			t.Fatalf("asset %s record %d/%d, objects %d/%d", a.ID, a.Objects, a.Bytes, len(objs), bytes)
		}
		if a.Node != s.cfg.NodeID || !a.UpdatedAt.Equal(testTime) {
			t.Fatalf("asset %s node %q updated %s", a.ID, a.Node, a.UpdatedAt)
		}
	}
	if g := strings.Join(got, ","); g != want {
		t.Fatalf("assets = %q, want %q", g, want)
	}
}

func TestAssetRecords(t *testing.T) {
	s := assetStore(t)
	mustPut(t, s, "staging/t1/1/a", make([]byte, 10))
	mustPut(t, s, "staging/t1/1/v/b", make([]byte, 20))
	mustPut(t, s, "staging/t1/1/c", make([]byte, 30))
	mustPut(t, s, "sources/s1", make([]byte, 99)) // not an asset
	wantAssets(t, s, "")

	if _, err := s.Publish("staging/t1/1/", "assets/A1/"); err != nil {
		t.Fatal(err)
	}
	wantAssets(t, s, "A1:3:60")

	// a is replaced (10 -> 5 bytes, no new object), d is new.
	mustPut(t, s, "staging/t2/1/a", make([]byte, 5))
	mustPut(t, s, "staging/t2/1/d", make([]byte, 7))
	if _, err := s.Publish("staging/t2/1/", "assets/A1/"); err != nil {
		t.Fatal(err)
	}
	wantAssets(t, s, "A1:4:62")

	// Direct puts count too; overwriting does not double count.
	mustPut(t, s, "assets/A1/x", make([]byte, 3))
	mustPut(t, s, "assets/A1/x", make([]byte, 4))
	mustPut(t, s, "assets/A2/y", make([]byte, 1))
	wantAssets(t, s, "A1:5:66,A2:1:1")

	// Moving an asset's objects away empties its record.
	if n, err := s.Publish("assets/A1/", "assets/B1/"); err != nil || n != 5 {
		t.Fatalf("move = %d, %v", n, err)
	}
	wantAssets(t, s, "A2:1:1,B1:5:66")

	if n, err := s.DeleteAsset("B1"); err != nil || n != 5 {
		t.Fatalf("delete = %d, %v", n, err)
	}
	wantAssets(t, s, "A2:1:1")
	if objs, _ := s.List("assets/B1/", "", 0); len(objs) != 0 {
		t.Fatalf("objects left after delete: %+v", objs)
	}
	if _, err := s.DeleteAsset("B1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if n, err := s.DeleteAsset("A2"); err != nil || n != 1 {
		t.Fatalf("delete A2 = %d, %v", n, err)
	}
	wantAssets(t, s, "")
	if n := blobFiles(t, s); n != 1 { // only sources/s1 is left
		t.Fatalf("%d blob files left, want 1", n)
	}
}

func TestAssetIDValidation(t *testing.T) {
	s := assetStore(t)
	for _, id := range []string{"", "a.b", "a/b", "a b", "..", strings.Repeat("x", 65), "ä"} {
		if _, err := s.DeleteAsset(id); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("delete %q: %v", id, err)
		}
	}
	for _, p := range []string{"assets/x", "assets/a.b/x", "assets/a b/c"} {
		if _, err := s.Put(context.Background(), p, "", -1, strings.NewReader("x")); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("put %q: %v", p, err)
		}
	}
	mustPut(t, s, "staging/t/1/f", []byte("x"))
	for _, to := range []string{"assets/a.b/", "assets/"} {
		if _, err := s.Publish("staging/t/1/", to); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("publish to %q: %v", to, err)
		}
	}
	if _, err := s.Stat("staging/t/1/f"); err != nil {
		t.Fatalf("rejected publish moved objects: %v", err)
	}
	if _, err := s.DeleteAsset("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	longest := strings.Repeat("x", 64)
	mustPut(t, s, "assets/"+longest+"/_-Az09", []byte("x"))
	wantAssets(t, s, longest+":1:1")
}

func TestListAssetsPaging(t *testing.T) {
	cfg := testConfig(t)
	cfg.ListLimit, cfg.MaxListLimit = 2, 3
	s := openStore(t, cfg)
	for i := range 7 {
		mustPut(t, s, fmt.Sprintf("assets/a%d/f", i), []byte("x"))
	}
	ids := func(assets []AssetInfo) string {
		var out []string
		for _, a := range assets {
			out = append(out, a.ID)
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		after string
		limit int
		want  string
	}{
		{"", 0, "a0,a1"}, {"", 100, "a0,a1,a2"}, {"a2", 10, "a3,a4,a5"},
		{"a5", 10, "a6"}, {"a6", 10, ""}, {"a", 1, "a0"}, {"a3x", 1, "a4"},
	}
	for _, c := range cases {
		got, err := s.ListAssets(c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != c.want {
			t.Errorf("ListAssets(%q, %d) = %s, want %s", c.after, c.limit, ids(got), c.want)
		}
	}

	c, rpc := startGRPC(t, s)
	all, err := c.ListAssets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 {
		t.Fatalf("client listed %d assets, want 7", len(all))
	}
	for i, a := range all {
		if a.GetAssetId() != fmt.Sprintf("a%d", i) || a.GetObjects() != 1 || a.GetBytes() != 1 ||
			a.GetNode() != cfg.NodeID || !a.GetUpdatedAt().AsTime().Equal(testTime) {
			t.Fatalf("asset %d = %v", i, a)
		}
	}
	_, err = rpc.ListAssets(context.Background(), &vodfleetv1.ListAssetsRequest{Limit: -1})
	wantCode(t, err, codes.InvalidArgument)
}

func TestGRPCDeleteAsset(t *testing.T) {
	s := assetStore(t)
	c, _ := startGRPC(t, s)
	ctx := context.Background()
	var paths []string
	for _, n := range []string{"master.m3u8", "v1/init.mp4", "v1/seg_1.m4s", "v1/seg_2.m4s"} {
		if _, err := c.PutBytes(ctx, "staging/t9/1/"+n, "", []byte(n)); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "assets/A9/"+n)
	}
	if _, err := c.Publish(ctx, "staging/t9/1/", "assets/A9/"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHTTPHandler(s, testLogger()))
	defer srv.Close()
	for _, p := range paths {
		if resp, _ := doHTTP(t, http.MethodGet, srv.URL+"/o/"+p, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("get %s before delete: %d", p, resp.StatusCode)
		}
	}
	n, err := c.DeleteAsset(ctx, "A9")
	if err != nil || n != len(paths) {
		t.Fatalf("delete = %d, %v", n, err)
	}
	for _, p := range paths {
		if resp, _ := doHTTP(t, http.MethodGet, srv.URL+"/o/"+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("get %s after delete: %d", p, resp.StatusCode)
		}
	}
	assertNoBlobs(t, s)
	if assets, err := c.ListAssets(ctx); err != nil || len(assets) != 0 {
		t.Fatalf("assets after delete: %v, %v", assets, err)
	}
	_, err = c.DeleteAsset(ctx, "A9")
	wantCode(t, err, codes.NotFound)
	_, err = c.DeleteAsset(ctx, "bad/id")
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.PutBytes(ctx, "assets/bad.id/x", "", []byte("x"))
	wantCode(t, err, codes.InvalidArgument)
}

// TestDeleteAssetAtomic checks that a concurrent reader sees all or none of
// an asset while it is deleted.
func TestDeleteAssetAtomic(t *testing.T) {
	s := assetStore(t)
	const n = 50
	for i := range n {
		mustPut(t, s, fmt.Sprintf("assets/D/f%03d", i), []byte{byte(i)})
	}
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for {
			select {
			case <-stop:
				return
			default:
			}
			objs, err := s.List("assets/D/", "", 1000)
			if err != nil {
				errc <- err
				return
			}
			if len(objs) != 0 && len(objs) != n {
				errc <- errors.New("reader saw a partly deleted asset")
				return
			}
		}
	}()
	if got, err := s.DeleteAsset("D"); err != nil || got != n {
		t.Fatalf("delete = %d, %v", got, err)
	}
	close(stop)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestAssetRecordsRebuilt checks that an index without asset records (made
// before they existed, or by a rebuild that crashed) gets them on Open.
func TestAssetRecordsRebuilt(t *testing.T) {
	cfg := testConfig(t)
	cfg.NodeID = "node-1"
	s, err := Open(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "assets/R1/a", make([]byte, 4))
	mustPut(t, s, "assets/R1/b/c", make([]byte, 6))
	mustPut(t, s, "assets/R2/a", make([]byte, 1))
	// Drop the marker and R1's record, and leave a record of an asset
	// without objects, as an interrupted rebuild could.
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{[]byte(assetRecordsMarker), assetKey("R1")} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		val, _ := encodeAssetRecord(assetRecord{Objects: 9, Bytes: 9})
		return txn.Set(assetKey("GONE"), val)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg)
	wantAssets(t, s, "R1:2:10,R2:1:1")
}
