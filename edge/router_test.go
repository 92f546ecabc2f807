package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/storage"
)

// storageNode is a real storage store with its HTTP origin on loopback,
// counting asset-record lookups.
type storageNode struct {
	id      string
	store   *storage.Store
	srv     *httptest.Server
	lookups atomic.Int64

	mu       sync.Mutex
	perAsset map[string]int // lookups by asset id
}

// lookupsOf is how many times asset's record was asked for. A lookup that
// was cancelled once another node answered may still arrive late, so
// tests about one asset count that asset only.
func (n *storageNode) lookupsOf(asset string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.perAsset[asset]
}

func newStorageNode(t *testing.T, id string) *storageNode {
	t.Helper()
	cfg := storage.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.NodeID = id
	cfg.SyncWrites = false
	st, err := storage.Open(cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	n := &storageNode{id: id, store: st, perAsset: map[string]int{}}
	origin := storage.NewHTTPHandler(st, hclog.NewNullLogger())
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/a/") {
			n.lookups.Add(1)
			n.mu.Lock()
			n.perAsset[strings.TrimPrefix(r.URL.Path, "/a/")]++
			n.mu.Unlock()
		}
		origin.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		n.srv.Close()
		_ = st.Close()
	})
	return n
}

func (n *storageNode) put(t *testing.T, path, body string) {
	t.Helper()
	if _, err := n.store.Put(context.Background(), path, "", int64(len(body)), strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEdgeRoutesAssetsToTheirStorageNode runs two real storage nodes with
// different assets behind one edge: every asset is served from the node
// whose record holds it, one lookup per asset however many requests miss
// at once, and an asset moved to the other node is found again.
func TestEdgeRoutesAssetsToTheirStorageNode(t *testing.T) {
	n1, n2 := newStorageNode(t, "n1"), newStorageNode(t, "n2")
	for i := range 50 {
		n1.put(t, fmt.Sprintf("assets/alpha/v1/seg_%05d.m4s", i), fmt.Sprintf("alpha segment %d", i))
	}
	n2.put(t, "assets/beta/master.m3u8", "#EXTM3U\n# beta\n")
	_, ts := newTestEdge(t, "", func(c *Config) {
		c.Origin = ""
		c.Origins = []OriginNode{{ID: "n1", URL: n1.srv.URL}, {ID: "n2", URL: n2.srv.URL + "/"}}
	})

	// 50 different cold objects of one asset, all at once.
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := get(t, fmt.Sprintf("%s/v/alpha/v1/seg_%05d.m4s", ts.URL, i))
			if want := fmt.Sprintf("alpha segment %d", i); code != 200 || body != want {
				errs <- fmt.Sprintf("seg %d: %d %q", i, code, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if code, body := get(t, ts.URL+"/v/beta/master.m3u8"); code != 200 || !strings.Contains(body, "beta") {
		t.Fatalf("beta from n2: %d %q", code, body)
	}
	// At most one lookup per asset per node however many requests
	// missed (a lookup stops asking once a node has the asset, so a slow
	// node may not be asked at all).
	if l1, l2 := n1.lookups.Load(), n2.lookups.Load(); l1 > 2 || l2 > 2 || l1+l2 < 2 {
		t.Fatalf("lookups n1=%d n2=%d, want at most one per asset per node", l1, l2)
	}
	// Unknown assets are 404, and the negative answer is cached briefly:
	// three misses, one lookup (every node answers it).
	for range 3 {
		if code, _ := get(t, ts.URL+"/v/nowhere/master.m3u8"); code != http.StatusNotFound {
			t.Fatalf("unknown asset: %d, want 404", code)
		}
	}
	if l1 := n1.lookupsOf("nowhere"); l1 != 1 {
		t.Fatalf("lookups on n1 for 3 misses of one unknown asset: %d, want 1", l1)
	}

	// The asset is deleted from n2 and published on n1: the first 404
	// from n2 drops the route, and the next request finds n1.
	if _, err := n2.store.DeleteAsset("beta"); err != nil {
		t.Fatal(err)
	}
	n1.put(t, "assets/beta/v1/index.m3u8", "#EXTM3U\n# beta moved\n")
	if code, _ := get(t, ts.URL+"/v/beta/v1/index.m3u8"); code != http.StatusNotFound {
		t.Fatalf("first request after the move: %d, want 404 from the old node", code)
	}
	if code, body := get(t, ts.URL+"/v/beta/v1/index.m3u8"); code != 200 || !strings.Contains(body, "moved") {
		t.Fatalf("after the move: %d %q", code, body)
	}
}

// TestEdgeRoutingWithANodeDown stops one of two nodes: the other node's
// assets are still found and served, cached objects of the dead node's
// assets are served stale, and its uncached objects fail fast with 502.
func TestEdgeRoutingWithANodeDown(t *testing.T) {
	n1, n2 := newStorageNode(t, "n1"), newStorageNode(t, "n2")
	n1.put(t, "assets/one/master.m3u8", "#EXTM3U\n# one\n")
	n2.put(t, "assets/two/master.m3u8", "#EXTM3U\n# two\n")
	n2.put(t, "assets/two/seg_1.m4s", "two segment one")
	n2.put(t, "assets/two/seg_2.m4s", "two segment two")
	_, ts := newTestEdge(t, "", func(c *Config) {
		c.Origin = ""
		c.Origins = []OriginNode{{ID: "n1", URL: n1.srv.URL}, {ID: "n2", URL: n2.srv.URL}}
		c.OriginConnectTimeout = 500 * time.Millisecond
	})
	if code, _ := get(t, ts.URL+"/v/two/seg_1.m4s"); code != 200 {
		t.Fatalf("warm-up: %d", code)
	}
	n2.srv.Close()
	if code, body := get(t, ts.URL+"/v/one/master.m3u8"); code != 200 || !strings.Contains(body, "one") {
		t.Fatalf("asset on the live node: %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/v/two/seg_1.m4s"); code != 200 || body != "two segment one" {
		t.Fatalf("cached object of the dead node: %d %q", code, body)
	}
	start := time.Now()
	if code, _ := get(t, ts.URL+"/v/two/seg_2.m4s"); code != http.StatusBadGateway && code != http.StatusGatewayTimeout {
		t.Fatalf("uncached object of the dead node: %d, want 502/504", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the miss took %s; it must fail fast", d)
	}
	// An asset nobody has, while a node is unreachable, is an origin
	// failure (502), not a 404: the dead node might hold it.
	if code, _ := get(t, ts.URL+"/v/three/master.m3u8"); code != http.StatusBadGateway && code != http.StatusGatewayTimeout {
		t.Fatalf("unknown asset with a node down: %d, want 502/504", code)
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins("127.0.0.1:7002")
	if err != nil || len(got) != 1 || got[0] != (OriginNode{URL: "http://127.0.0.1:7002"}) {
		t.Fatalf("single: %v %v", got, err)
	}
	got, err = ParseOrigins("a=http://h1:7002, b=h2:7002")
	if err != nil || len(got) != 2 || got[0] != (OriginNode{ID: "a", URL: "http://h1:7002"}) || got[1] != (OriginNode{ID: "b", URL: "http://h2:7002"}) {
		t.Fatalf("list: %v %v", got, err)
	}
	if _, err := ParseOrigins(" , "); err == nil {
		t.Fatal("empty list accepted")
	}
	cfg := DefaultConfig()
	cfg.Origins = []OriginNode{{URL: "http://h1"}, {URL: "http://h2"}}
	if err := cfg.Validate(); err == nil {
		t.Fatal("several origins without ids accepted")
	}
	cfg.Origins = []OriginNode{{ID: "a", URL: "http://h1"}, {ID: "a", URL: "http://h2"}}
	if err := cfg.Validate(); err == nil {
		t.Fatal("duplicate ids accepted")
	}
	cfg.Origin = "http://h"
	cfg.Origins = []OriginNode{{ID: "a", URL: "http://h1"}}
	if err := cfg.Validate(); err == nil {
		t.Fatal("origin and origins together accepted")
	}
}
