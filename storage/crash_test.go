package storage

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCrashRecovery simulates a crash that left a half-written blob (a temp
// file) and a complete but unindexed blob, then reopens the store: the
// temp file goes at Open, the orphan after the grace, and published
// objects stay intact and verified.
func TestCrashRecovery(t *testing.T) {
	clock := newFakeClock()
	cfg := sweepConfig(t, clock)
	cfg.SyncWrites = true
	s, err := Open(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"master.m3u8": []byte("#EXTM3U"), "v1/seg_1.m4s": randomBytes(70000), "v1/seg_2.m4s": randomBytes(50000)}
	for name, data := range files {
		mustPut(t, s, "staging/t/1/"+name, data)
	}
	if _, err := s.Publish("staging/t/1/", "assets/C/"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	root := filepath.Join(cfg.Dir, "blobs")
	const orphanID = "ab0123456789abcdef0123456789abcd"
	orphan := filepath.Join(root, "ab", orphanID)
	temp := filepath.Join(root, "cd", blobTempPrefix+"cd0123456789abcdef0123456789abcd-42")
	foreign := filepath.Join(root, "ef", "operator-notes.txt")
	for path, data := range map[string][]byte{orphan: randomBytes(999), temp: randomBytes(123), foreign: []byte("mine")} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s = openStore(t, cfg)
	if exists(t, temp) {
		t.Fatal("temp file of an interrupted write survived Open")
	}
	if !exists(t, orphan) {
		t.Fatal("orphan removed before its grace")
	}
	for name, data := range files {
		mustVerify(t, s, "assets/C/"+name, data)
	}
	clock.Advance(cfg.OrphanGrace + time.Minute)
	if st := mustSweep(t, s); st.OrphanBlobs != 1 || st.Bytes != 999 {
		t.Fatalf("stats %+v", st)
	}
	if exists(t, orphan) || !exists(t, foreign) {
		t.Fatal("orphan kept or foreign file removed")
	}
	for name, data := range files {
		mustVerify(t, s, "assets/C/"+name, data)
	}
	if n := blobFiles(t, s); n != len(files)+1 {
		t.Fatalf("%d blob files, want %d", n, len(files)+1)
	}
	wantAssetCount(t, s, "C", int64(len(files)))
}

// wantAssetCount checks the object count of one asset record.
func wantAssetCount(t *testing.T, s *Store, id string, objects int64) {
	t.Helper()
	assets, err := s.ListAssets("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(assets) != 1 || assets[0].ID != id || assets[0].Objects != objects {
		t.Fatalf("assets %+v, want %s with %d objects", assets, id, objects)
	}
}
