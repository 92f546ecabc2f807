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
	"time"
)

func TestSweepStagingByAge(t *testing.T) {
	clock := newFakeClock()
	s := openStore(t, sweepConfig(t, clock))
	old1 := mustPut(t, s, "staging/t1/1/a", make([]byte, 10))
	old2 := mustPut(t, s, "staging/t1/1/v/b", make([]byte, 20))
	loose := mustPut(t, s, "staging/loose", make([]byte, 5))
	shallow := mustPut(t, s, "staging/t4/f", make([]byte, 7))
	mustPut(t, s, "staging/t2/1/a", make([]byte, 1))
	asset := mustPut(t, s, "assets/A/x", make([]byte, 3))
	src := mustPut(t, s, "sources/s", make([]byte, 3))

	clock.Advance(23 * time.Hour)
	mustPut(t, s, "staging/t2/1/b", make([]byte, 1)) // keeps t2/1 alive
	mustPut(t, s, "staging/t3/1/a", make([]byte, 1))
	mustPut(t, s, "staging/t4/f2", make([]byte, 1)) // shares a prefix with t4/f only
	if st := mustSweep(t, s); st != (SweepStats{}) {
		t.Fatalf("sweep before expiry removed %+v", st)
	}

	clock.Advance(2 * time.Hour) // t1/1, loose and t4/f are 25h old
	st := mustSweep(t, s)
	if st.StagingObjects != 4 || st.Bytes != 42 || st.OrphanBlobs != 0 {
		t.Fatalf("stats %+v", st)
	}
	for _, obj := range []Object{old1, old2, loose, shallow} {
		if _, err := s.Stat(obj.Path); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s survived: %v", obj.Path, err)
		}
		if exists(t, blobPath(s, obj)) {
			t.Fatalf("blob of %s survived", obj.Path)
		}
	}
	for _, p := range []string{"staging/t2/1/a", "staging/t2/1/b", "staging/t3/1/a", "staging/t4/f2", asset.Path, src.Path} {
		if _, err := s.Stat(p); err != nil {
			t.Fatalf("%s deleted too early: %v", p, err)
		}
	}

	clock.Advance(23 * time.Hour)
	if st := mustSweep(t, s); st.StagingObjects != 4 {
		t.Fatalf("second expiry stats %+v", st)
	}
	if left, _ := s.List("staging/", "", 0); len(left) != 0 {
		t.Fatalf("staging left: %+v", left)
	}
	mustVerify(t, s, asset.Path, make([]byte, 3))
	mustVerify(t, s, src.Path, make([]byte, 3))
	if n := blobFiles(t, s); n != 2 {
		t.Fatalf("%d blob files, want 2", n)
	}
}

// TestSweepStagingRewritten checks that an attempt directory written to
// between the expiry scan and the delete is kept whole.
func TestSweepStagingRewritten(t *testing.T) {
	clock := newFakeClock()
	s := openStore(t, sweepConfig(t, clock))
	mustPut(t, s, "staging/t/1/a", []byte("a"))
	clock.Advance(25 * time.Hour)
	cutoff := clock.Now().Add(-s.cfg.StagingMaxAge)
	groups, err := s.expiredStaging(context.Background(), cutoff)
	if err != nil || len(groups) != 1 || groups[0] != "staging/t/1/" {
		t.Fatalf("expired = %v, %v", groups, err)
	}
	mustPut(t, s, "staging/t/1/b", []byte("b"))
	if n, _, err := s.deleteStaging(groups[0], cutoff); err != nil || n != 0 {
		t.Fatalf("delete = %d, %v", n, err)
	}
	if objs, _ := s.List("staging/t/1/", "", 0); len(objs) != 2 {
		t.Fatalf("attempt partly deleted: %+v", objs)
	}
}

func TestSweepOrphanGrace(t *testing.T) {
	clock := newFakeClock()
	s := openStore(t, sweepConfig(t, clock))
	keep := randomBytes(3000)
	mustPut(t, s, "assets/A/keep", keep)
	// A crash between blob write and index commit leaves an unreferenced
	// blob; one during a blob write leaves a temp file.
	orphan, err := s.blobs.Create(context.Background(), strings.NewReader("orphan!"))
	if err != nil {
		t.Fatal(err)
	}
	orphanPath := blobPath(s, Object{BlobID: orphan.ID})
	temp := filepath.Join(filepath.Dir(orphanPath), blobTempPrefix+orphan.ID+"-1")
	if err := os.WriteFile(temp, []byte("part"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, step := range []time.Duration{0, 30 * time.Minute, 29 * time.Minute} {
		clock.Advance(step)
		if st := mustSweep(t, s); st != (SweepStats{}) {
			t.Fatalf("within grace (+%s): removed %+v", step, st)
		}
	}
	if !exists(t, orphanPath) || !exists(t, temp) {
		t.Fatal("young orphan or temp file removed")
	}

	clock.Advance(2 * time.Minute) // 61 minutes
	st := mustSweep(t, s)
	if st.OrphanBlobs != 1 || st.TempFiles != 1 || st.Bytes != orphan.Size || st.StagingObjects != 0 {
		t.Fatalf("stats %+v", st)
	}
	if exists(t, orphanPath) || exists(t, temp) {
		t.Fatal("orphan or temp file survived the grace")
	}
	mustVerify(t, s, "assets/A/keep", keep)
	if n := blobFiles(t, s); n != 1 {
		t.Fatalf("%d blob files, want 1", n)
	}
}

// pausingBlobs holds Create after the blob is durable and before the Store
// indexes it, so a sweep can run in that window.
type pausingBlobs struct {
	BlobSweeper
	created chan BlobInfo
	release chan struct{}
}

// Create writes the blob, reports it and waits for release.
func (p *pausingBlobs) Create(ctx context.Context, r io.Reader) (BlobInfo, error) {
	info, err := p.BlobSweeper.Create(ctx, r)
	if err == nil {
		p.created <- info
		<-p.release
	}
	return info, err
}

// TestSweepSparesUploadInFlight checks that a blob written but not yet
// indexed by a running Put is not taken for an orphan.
func TestSweepSparesUploadInFlight(t *testing.T) {
	clock := newFakeClock()
	cfg := sweepConfig(t, clock)
	inner, err := NewFileBlobStore(filepath.Join(cfg.Dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	pb := &pausingBlobs{BlobSweeper: inner.(BlobSweeper), created: make(chan BlobInfo), release: make(chan struct{})}
	cfg.Blobs = pb
	s := openStore(t, cfg)
	data := randomBytes(5000)
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), "staging/t/1/seg", "", int64(len(data)), bytes.NewReader(data))
		done <- err
	}()
	info := <-pb.created
	if st := mustSweep(t, s); st.OrphanBlobs != 0 {
		t.Fatalf("in-flight blob %s removed: %+v", info.ID, st)
	}
	close(pb.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustVerify(t, s, "staging/t/1/seg", data)
}

// TestSweepLoop checks that Open starts the background sweep and Close
// stops it.
func TestSweepLoop(t *testing.T) {
	cfg := testConfig(t)
	cfg.Now = time.Now
	cfg.SweepInterval = 10 * time.Millisecond
	cfg.OrphanGrace = time.Nanosecond
	s := openStore(t, cfg)
	// The orphan is written straight into place: a blob created through
	// the store would pass through a temp file, which this 1 ns grace lets
	// the running sweep delete before its rename.
	path := blobPath(s, Object{BlobID: "ab0123456789abcdef0123456789abcd"})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for exists(t, path) {
		if time.Now().After(deadline) {
			t.Fatal("background sweep never removed the orphan")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSweepClosed(t *testing.T) {
	s, err := Open(testConfig(t), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("sweep after close: %v", err)
	}
}

func TestConfigValidateSweepFields(t *testing.T) {
	def := DefaultConfig()
	if def.NodeID == "" || def.SweepInterval != time.Minute || def.StagingMaxAge != 24*time.Hour || def.OrphanGrace != time.Hour {
		t.Fatalf("defaults %+v", def)
	}
	cfg := testConfig(t)
	cfg.NodeID = ""
	cfg.SweepInterval = 0
	cfg.StagingMaxAge = -time.Second
	cfg.OrphanGrace = 0
	err := cfg.Validate()
	for _, want := range []string{"node id", "sweep interval", "staging max age", "orphan grace"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q error, got %v", want, err)
		}
	}
}
