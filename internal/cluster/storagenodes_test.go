package cluster

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vodfleet/vodfleet/internal/testmedia"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// TestAssetsOnSeveralStorageNodes runs two storage processes behind one
// coordinator and one edge. A job whose source was uploaded to a node
// publishes there; URL-source jobs are spread over both nodes; the asset
// record on the holding node names it, the other node does not have the
// asset, and the edge serves every asset from the right node.
func TestAssetsOnSeveralStorageNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test; skipped with -short")
	}
	c := New(t, Options{Coordinators: 1, Agents: 2, StorageNodes: 2})
	src := testmedia.Make(t, t.TempDir(), testmedia.Clip{Size: "320x180", Seconds: 3})
	onS1 := c.SubmitOn(0, src, &v1.SubmitJobRequest{Ladder: "default"})
	onS2 := c.SubmitOn(1, src, &v1.SubmitJobRequest{Ladder: "default"})
	jobs := c.WaitDone(3*time.Minute, onS1, onS2)
	c.CheckSucceeded(jobs)
	want := map[string]int{onS1: 0, onS2: 1}
	for id, i := range want {
		if got := jobs[id].GetJob().GetStorageNode(); got != []string{"s1", "s2"}[i] {
			t.Errorf("job %s: storage node %q, want s%d", id, got, i+1)
		}
		for j, addr := range c.StorageHTTPs {
			rec, code := assetRecord(t, addr, id)
			switch {
			case j == i && (code != http.StatusOK || rec.Node != []string{"s1", "s2"}[i] || rec.Objects < 5):
				t.Errorf("asset %s on its node s%d: %d %+v", id, i+1, code, rec)
			case j != i && code != http.StatusNotFound:
				t.Errorf("asset %s also on node s%d: %d", id, j+1, code)
			}
		}
		playThroughEdge(t, c, id)
	}
}

// assetRecord reads GET /a/{asset} from a storage node's HTTP origin.
func assetRecord(t *testing.T, httpAddr, asset string) (storage.AssetRecordJSON, int) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/a/" + asset)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec storage.AssetRecordJSON
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
			t.Fatal(err)
		}
	}
	return rec, resp.StatusCode
}

// playThroughEdge fetches the asset's master playlist, every media
// playlist and every segment they name through the edge.
func playThroughEdge(t *testing.T, c *Cluster, asset string) {
	t.Helper()
	base := "http://" + c.EdgeAddr + "/v/" + asset + "/"
	fetched := 0
	var walk func(rel string)
	walk = func(rel string) {
		resp, err := http.Get(base + rel)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("edge %s: %d", rel, resp.StatusCode)
		}
		fetched++
		if !strings.HasSuffix(rel, ".m3u8") {
			return
		}
		dir := rel[:strings.LastIndex(rel, "/")+1]
		for _, line := range strings.Split(string(body), "\n") {
			line = strings.TrimSpace(line)
			if uri, ok := strings.CutPrefix(line, `#EXT-X-MAP:URI="`); ok {
				walk(dir + strings.TrimSuffix(uri, `"`))
			} else if uri, ok := strings.CutPrefix(line, `#EXT-X-MEDIA:`); ok && strings.Contains(uri, `URI="`) {
				u := uri[strings.Index(uri, `URI="`)+5:]
				walk(dir + u[:strings.Index(u, `"`)])
			} else if line != "" && !strings.HasPrefix(line, "#") {
				walk(dir + line)
			}
		}
	}
	walk("master.m3u8")
	if fetched < 6 {
		t.Fatalf("asset %s: only %d objects reachable through the edge", asset, fetched)
	}
}
