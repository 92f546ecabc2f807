package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// flakyDest wraps a Destination, failing chosen Puts a number of times
// and recording the order of successful Puts.
type flakyDest struct {
	Destination
	mu    sync.Mutex
	fails map[string]int // rel -> failures left
	err   error          // what a failure returns
	puts  []string       // successful Puts, in order
	tries map[string]int // Put calls per file
}

func (f *flakyDest) Put(ctx context.Context, rel string, body io.ReaderAt, size int64, meta Meta, progress func(int64)) error {
	f.mu.Lock()
	f.tries[rel]++
	if f.fails[rel] > 0 {
		f.fails[rel]--
		f.mu.Unlock()
		return fmt.Errorf("injected: %w", f.err)
	}
	f.mu.Unlock()
	if err := f.Destination.Put(ctx, rel, body, size, meta, progress); err != nil {
		return err
	}
	f.mu.Lock()
	f.puts = append(f.puts, rel)
	f.mu.Unlock()
	return nil
}

func newFlaky(t *testing.T, fails map[string]int, err error) (*flakyDest, string) {
	root := t.TempDir()
	d, err2 := ParseDestination("file://"+root, Options{})
	if err2 != nil {
		t.Fatal(err2)
	}
	return &flakyDest{Destination: d, fails: fails, err: err, tries: map[string]int{}}, root
}

// recordSleep is an Options.Sleep that records the delays asked for.
type recordSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (r *recordSleep) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.delays = append(r.delays, d)
	r.mu.Unlock()
	return ctx.Err()
}

func TestPushFileOrderAndSkip(t *testing.T) {
	pkg := makePackage(t)
	d, root := newFlaky(t, nil, nil)
	res, err := Push(context.Background(), pkg.dir, d, nil, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, pkg, root)
	checkOrder(t, pkg, d.puts)
	if len(res.Sent) != len(pkg.all()) {
		t.Fatalf("sent %d files, want %d", len(res.Sent), len(pkg.all()))
	}
	// A changed file of the same size is sent again: the file
	// destination offers MD5s, so content and not only size is compared.
	changed := filepath.Join(root, "720p", "seg_001.m4s")
	b, _ := os.ReadFile(changed)
	b[0] ^= 0xff
	if err := os.WriteFile(changed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Push(context.Background(), pkg.dir, d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Sent, []string{"720p/seg_001.m4s"}) {
		t.Fatalf("re-push after a same-size change sent %v", res.Sent)
	}
	checkTree(t, pkg, root)
}

func TestPushRetriesWithBackoff(t *testing.T) {
	pkg := makePackage(t)
	d, root := newFlaky(t, map[string]int{"360p/seg_001.m4s": 3}, errors.New("connection reset"))
	var rs recordSleep
	opts := Options{Retries: 4, Backoff: time.Second, MaxBackoff: 3 * time.Second, Sleep: rs.sleep}
	if _, err := Push(context.Background(), pkg.dir, d, nil, opts); err != nil {
		t.Fatalf("Push: %v", err)
	}
	checkTree(t, pkg, root)
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(rs.delays, want) {
		t.Errorf("backoff delays %v, want %v", rs.delays, want)
	}
}

func TestPushGivesUpAndSendsNoManifest(t *testing.T) {
	pkg := makePackage(t)
	d, _ := newFlaky(t, map[string]int{"720p/seg_003.m4s": 100}, errors.New("disk full"))
	opts := Options{Retries: 2, Sleep: noSleep}
	_, err := Push(context.Background(), pkg.dir, d, nil, opts)
	if err == nil {
		t.Fatal("Push succeeded although a segment always fails")
	}
	if d.tries["720p/seg_003.m4s"] != 3 {
		t.Errorf("the failing file was tried %d times, want 3 (1 + 2 retries)", d.tries["720p/seg_003.m4s"])
	}
	for _, p := range d.puts {
		if isManifest(p) {
			t.Errorf("manifest %s was sent although a segment failed", p)
		}
	}
}

func TestPushStopsOnAuthError(t *testing.T) {
	pkg := makePackage(t)
	d, _ := newFlaky(t, map[string]int{"360p/init.mp4": 100}, ErrAuth)
	var rs recordSleep
	_, err := Push(context.Background(), pkg.dir, d, nil, Options{Concurrency: 1, Sleep: rs.sleep})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Push: %v, want ErrAuth", err)
	}
	if d.tries["360p/init.mp4"] != 1 || len(rs.delays) != 0 {
		t.Errorf("an auth failure was retried: %d tries, %d sleeps", d.tries["360p/init.mp4"], len(rs.delays))
	}
}
