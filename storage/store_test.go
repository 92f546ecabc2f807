package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err == nil {
		t.Fatal("default config without dir validated")
	}
	cfg := testConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cfg.ChunkSize = 0
	cfg.GCDiscardRatio = 1
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "chunk size") || !strings.Contains(err.Error(), "discard ratio") {
		t.Fatalf("want both errors, got %v", err)
	}
}

func TestPutStatOpen(t *testing.T) {
	s := openStore(t, testConfig(t))
	data := randomBytes(1 << 20)
	obj := mustPut(t, s, "assets/a1/v720p/seg_00001.m4s", data)
	if obj.Size != int64(len(data)) || obj.ContentType != "video/iso.segment" || !obj.ModTime.Equal(testTime) {
		t.Fatalf("unexpected object %+v", obj)
	}
	got, err := s.Stat(obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got != obj {
		t.Fatalf("stat = %+v, want %+v", got, obj)
	}
	for name, open := range map[string]func(string) (Object, io.ReadSeekCloser, error){"open": s.Open, "verified": s.OpenVerified} {
		_, rc, err := open(obj.Path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("%s: content mismatch (err %v)", name, err)
		}
	}
	if _, err := s.Stat("assets/a1/missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stat missing: %v", err)
	}
	if _, _, err := s.Open("assets/a1/missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open missing: %v", err)
	}
}

func TestPutExplicitContentTypeAndEmpty(t *testing.T) {
	s := openStore(t, testConfig(t))
	obj, err := s.Put(context.Background(), "sources/x", "video/quicktime", -1, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != 0 || obj.ContentType != "video/quicktime" ||
		obj.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("unexpected %+v", obj)
	}
}

func TestPutOverwriteRemovesOldBlob(t *testing.T) {
	s := openStore(t, testConfig(t))
	first := mustPut(t, s, "sources/s1", []byte("one"))
	second := mustPut(t, s, "sources/s1", []byte("two!"))
	if first.BlobID == second.BlobID {
		t.Fatal("overwrite reused blob id")
	}
	if _, err := os.Stat(blobPath(s, first)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old blob still present: %v", err)
	}
	_, rc, err := s.Open("sources/s1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "two!" {
		t.Fatalf("got %q", b)
	}
}

func TestPutSizeMismatch(t *testing.T) {
	s := openStore(t, testConfig(t))
	for _, size := range []int64{3, 5, -2} {
		_, err := s.Put(context.Background(), "sources/s", "", size, strings.NewReader("four"))
		if !errors.Is(err, ErrSizeMismatch) {
			t.Fatalf("size %d: got %v", size, err)
		}
	}
	if _, err := s.Stat("sources/s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed put left an object: %v", err)
	}
	assertNoBlobs(t, s)
}

func TestPutCancelled(t *testing.T) {
	s := openStore(t, testConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "sources/s", "", -1, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	assertNoBlobs(t, s)
}

func TestInvalidPaths(t *testing.T) {
	s := openStore(t, testConfig(t))
	bad := []string{"", "/abs", "a/../b", "..", "a/./b", "a//b", "a/", `a\b`, "a\x00b", "a\nb", strings.Repeat("x", maxPathLen+1), "\xff"}
	for _, p := range bad {
		if _, err := s.Put(context.Background(), p, "", -1, strings.NewReader("x")); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("put %q: got %v", p, err)
		}
		if _, err := s.Stat(p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("stat %q: got %v", p, err)
		}
	}
	for _, p := range []string{"/abs", "a/../", `a\`} {
		if _, err := s.List(p, "", 0); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("list %q: got %v", p, err)
		}
	}
	for _, pair := range [][2]string{{"", "assets/a"}, {"staging/t/1", "../x"}, {"a/", "a/b/"}, {"a/b", "a"}, {"a", "a/"}} {
		if _, err := s.Publish(pair[0], pair[1]); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("publish %q -> %q: got %v", pair[0], pair[1], err)
		}
	}
	assertNoBlobs(t, s)
}

func TestList(t *testing.T) {
	cfg := testConfig(t)
	cfg.ListLimit, cfg.MaxListLimit = 2, 3
	s := openStore(t, cfg)
	for _, p := range []string{"assets/a/1", "assets/a/2", "assets/a/3", "assets/a/4", "assets/ab/1", "sources/z"} {
		mustPut(t, s, p, []byte(p))
	}
	paths := func(objs []Object) string {
		var ps []string
		for _, o := range objs {
			ps = append(ps, o.Path)
		}
		return strings.Join(ps, ",")
	}
	cases := []struct {
		prefix, after string
		limit         int
		want          string
	}{
		{"assets/a/", "", 0, "assets/a/1,assets/a/2"},
		{"assets/a/", "", 100, "assets/a/1,assets/a/2,assets/a/3"},
		{"assets/a/", "assets/a/2", 10, "assets/a/3,assets/a/4"},
		{"assets/a", "assets/a/4", 10, "assets/ab/1"},
		{"assets/a/", "zzz", 10, ""},
		{"assets/a/", "a", 1, "assets/a/1"},
		{"", "assets/ab/1", 10, "sources/z"},
		{"nothing/", "", 10, ""},
	}
	for _, c := range cases {
		objs, err := s.List(c.prefix, c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(objs); got != c.want {
			t.Errorf("list(%q, %q, %d) = %s, want %s", c.prefix, c.after, c.limit, got, c.want)
		}
	}
}

func TestCorruptDetected(t *testing.T) {
	s := openStore(t, testConfig(t))
	obj := mustPut(t, s, "assets/a/seg.m4s", randomBytes(4096))
	flipByte(t, s, obj, 100)
	if _, _, err := s.OpenVerified(obj.Path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open verified: %v", err)
	}
	if err := os.Truncate(blobPath(s, obj), 10); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(obj.Path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open truncated: %v", err)
	}
	if err := os.Remove(blobPath(s, obj)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(obj.Path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open missing blob: %v", err)
	}
}

func TestReopen(t *testing.T) {
	cfg := testConfig(t)
	cfg.SyncWrites = true
	s, err := Open(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	obj := mustPut(t, s, "sources/keep", []byte("persisted"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.Stat(obj.Path); !errors.Is(err, ErrClosed) {
		t.Fatalf("stat after close: %v", err)
	}
	s2 := openStore(t, cfg)
	got, err := s2.Stat(obj.Path)
	if err != nil || got != obj {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	_, rc, err := s2.OpenVerified(obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "persisted" {
		t.Fatalf("got %q", b)
	}
}

func TestContentType(t *testing.T) {
	cases := map[string]string{
		"a/master.m3u8": "application/vnd.apple.mpegurl", "x.MPD": "application/dash+xml",
		"v.mp4": "video/mp4", "s.m4s": "video/iso.segment", "s.ts": "video/mp2t", "c.vtt": "text/vtt",
		"t.jpg": "image/jpeg", "a.m4a": "audio/mp4", "sources/abc": DefaultContentType, "x.bin": DefaultContentType,
	}
	for name, want := range cases {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// assertNoBlobs fails if any blob file or temp file exists.
func assertNoBlobs(t *testing.T, s *Store) {
	t.Helper()
	if n := blobFiles(t, s); n != 0 {
		t.Fatalf("%d leftover blob files", n)
	}
}

// blobFiles counts blob and temp files in the store's blob tree.
func blobFiles(t *testing.T, s *Store) int {
	t.Helper()
	root := filepath.Join(s.cfg.Dir, "blobs")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n += len(entries)
	}
	return n
}
