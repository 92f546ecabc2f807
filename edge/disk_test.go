package edge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/internal/clock"
)

// diskFiles lists the data files (not sidecars, not temporaries) under dir.
func diskFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if strings.HasPrefix(d.Name(), ".tmp-") {
				t.Errorf("temporary file left behind: %s", p)
			}
			if !strings.HasSuffix(p, metaSuffix) {
				files = append(files, p)
			}
		}
		return nil
	})
	return files
}

func TestDiskCacheLRU(t *testing.T) {
	dir := t.TempDir()
	stray := filepath.Join(dir, diskSubdir, "old", "file")
	os.MkdirAll(filepath.Dir(stray), 0o755)
	os.WriteFile(stray, []byte("left by a previous run"), 0o644)
	foreign := filepath.Join(dir, "not-ours")
	os.WriteFile(foreign, []byte("an operator's file"), 0o644)
	d, err := newDiskCache(dir, 100, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("cache dir not emptied at start: %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("a file outside the cache's own subdirectory was touched: %v", err)
	}
	os.Remove(foreign) // the counts below look at the whole dir
	// Each entry costs len(key)+len(data) = 2+28 = 30 bytes.
	for _, k := range []string{"k0", "k1", "k2"} {
		if !d.put(k, obj(28)) {
			t.Fatalf("put %s refused", k)
		}
	}
	f, meta, ok := d.open("k0") // k0 is now most recent; k1 is oldest
	if !ok || meta.ETag() != `"e"` || meta.ContentType() != "video/iso.segment" {
		t.Fatalf("open k0: %v %+v", ok, meta)
	}
	f.Close()
	d.put("k3", obj(28))
	if n, b := d.stats(); n != 3 || b != 90 {
		t.Fatalf("objects %d bytes %d", n, b)
	}
	if _, _, ok := d.open("k1"); ok {
		t.Fatal("k1 should have been evicted")
	}
	if got := len(diskFiles(t, dir)); got != 3 {
		t.Fatalf("%d data files on disk, want 3", got)
	}
	// A replacement is a new file; a reader of the old one is unaffected.
	old, _, _ := d.open("k3")
	defer old.Close()
	d.put("k3", NewObject([]byte("new"), "text/plain", `"n"`, time.Time{}))
	f, meta, _ = d.open("k3")
	got, _ := os.ReadFile(f.Name())
	f.Close()
	if string(got) != "new" || meta.ETag() != `"n"` {
		t.Fatalf("replaced k3: %q %q", got, meta.ETag())
	}
	if b, _ := os.ReadFile(old.Name()); b != nil {
		t.Fatalf("old k3 file still linked")
	}
	var sidecar diskMeta
	raw, err := os.ReadFile(f.Name() + metaSuffix)
	if err != nil || json.Unmarshal(raw, &sidecar) != nil || sidecar.Key != "k3" || sidecar.ETag != `"n"` {
		t.Fatalf("sidecar %s: %v", raw, err)
	}
	if d.put("huge", obj(200)) {
		t.Fatal("object over the budget stored")
	}
	d.remove("k3")
	if _, _, ok := d.open("k3"); ok || len(diskFiles(t, dir)) != 2 {
		t.Fatal("remove left k3")
	}
}

func TestServerSpillsToDisk(t *testing.T) {
	o := newFakeOrigin(t)
	seg := bytes.Repeat([]byte("s"), 600)
	big := bytes.Repeat([]byte("b"), 3000)
	o.put("a1/seg1.m4s", seg)
	o.put("a1/seg2.m4s", seg)
	o.put("a1/big.mp4", big)
	dir := filepath.Join(t.TempDir(), "cache")
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.MemoryBytes = 1000 // one segment at a time
		c.MaxObjectBytes = 4000
		c.DiskDir = dir
		c.DiskBytes = 10000
	})
	for _, p := range []string{"seg1.m4s", "seg2.m4s", "big.mp4"} {
		resp, _ := do(t, ts, "GET", "/v/a1/"+p, nil)
		expectStatus(t, resp, 200)
	}
	// seg1 was evicted from memory to disk; big never fit in memory. Disk
	// writes finish after the responses.
	waitFor(t, "disk writes", func() bool { return s.Stats().DiskObjects == 2 })
	st := s.Stats()
	if st.CachedObjects != 1 || st.DiskObjects != 2 || st.DiskBytes != int64(len("a1/seg1.m4s")+600+len("a1/big.mp4")+3000) {
		t.Fatalf("stats %+v", st)
	}
	for p, want := range map[string][]byte{"seg1.m4s": seg, "big.mp4": big} {
		resp, body := do(t, ts, "GET", "/v/a1/"+p, nil)
		expectStatus(t, resp, 200)
		if resp.Header.Get("X-Cache") != "HIT" || resp.Header.Get("ETag") == "" ||
			resp.Header.Get("Content-Type") == "" || resp.Header.Get("Cache-Control") == "" {
			t.Fatalf("%s: headers %v", p, resp.Header)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("%s: body differs", p)
		}
	}
	resp, body := do(t, ts, "GET", "/v/a1/big.mp4", map[string]string{"Range": "bytes=10-19"})
	expectStatus(t, resp, 206)
	if string(body) != "bbbbbbbbbb" || resp.Header.Get("Content-Range") != "bytes 10-19/3000" {
		t.Fatalf("range from disk: %q %q", body, resp.Header.Get("Content-Range"))
	}
	resp, _ = do(t, ts, "GET", "/v/a1/big.mp4", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	expectStatus(t, resp, 304)
	if st := s.Stats(); st.DiskHits != 4 || st.OriginFetches != 3 {
		t.Fatalf("stats %+v", st)
	}
	if got := len(diskFiles(t, dir)); got != 2 {
		t.Fatalf("%d data files, want 2", got)
	}
}

func TestStaleFromDisk(t *testing.T) {
	o := newFakeOrigin(t)
	o.put("a1/index.m3u8", []byte("#EXTM3U v1"))
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	s, ts := newTestEdge(t, o.srv.URL, func(c *Config) {
		c.Now = clk.Now
		c.MemoryBytes = 0 // everything lives on disk
		c.DiskDir = t.TempDir()
		c.DiskBytes = 1 << 20
	})
	do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	waitFor(t, "disk write", func() bool { return s.Stats().DiskObjects == 1 })
	resp, _ := do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	if resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("X-Cache %q", resp.Header.Get("X-Cache"))
	}
	o.srv.Close()
	clk.Advance(time.Minute)
	resp, body := do(t, ts, "GET", "/v/a1/index.m3u8", nil)
	expectStale(t, resp, body, "#EXTM3U v1")
}

func TestDiskConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.Origin = "http://127.0.0.1:1"
	c.DiskBytes = 1 << 20
	if c.Validate() == nil {
		t.Fatal("disk bytes without a dir accepted")
	}
	c.DiskDir = "/"
	if c.Validate() == nil {
		t.Fatal("root disk dir accepted")
	}
	c.DiskDir, c.DiskBytes = t.TempDir(), -1
	if c.Validate() == nil {
		t.Fatal("negative disk bytes accepted")
	}
}
