package storage

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

func TestPublish(t *testing.T) {
	s := openStore(t, testConfig(t))
	files := map[string]string{"master.m3u8": "#EXTM3U", "v720p/seg_1.m4s": "seg1", "v720p/seg_2.m4s": "seg2"}
	for name, body := range files {
		mustPut(t, s, "staging/t1/1/"+name, []byte(body))
	}
	mustPut(t, s, "staging/t1/10/other", []byte("x")) // must not match staging/t1/1
	old := mustPut(t, s, "assets/a1/master.m3u8", []byte("stale"))

	n, err := s.Publish("staging/t1/1", "assets/a1/")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Fatalf("moved %d, want %d", n, len(files))
	}
	if left, _ := s.List("staging/t1/1/", "", 0); len(left) != 0 {
		t.Fatalf("staging not empty: %+v", left)
	}
	if _, err := s.Stat("staging/t1/10/other"); err != nil {
		t.Fatalf("unrelated staging object moved: %v", err)
	}
	for name, body := range files {
		_, rc, err := s.OpenVerified("assets/a1/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != body {
			t.Fatalf("%s = %q", name, b)
		}
	}
	if _, err := os.Stat(blobPath(s, old)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("replaced blob not removed: %v", err)
	}
	if n, err := s.Publish("staging/t1/1/", "assets/a1/"); err != nil || n != 0 {
		t.Fatalf("republish = %d, %v", n, err)
	}
}

// TestPublishAtomic checks that a concurrent reader sees all or none of a
// published set, never a mix.
func TestPublishAtomic(t *testing.T) {
	s := openStore(t, testConfig(t))
	const n = 50
	for i := range n {
		mustPut(t, s, "staging/t/1/f"+string(rune('A'+i%26))+string(rune('a'+i/26)), []byte{byte(i)})
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
			objs, err := s.List("assets/x/", "", 1000)
			if err != nil {
				errc <- err
				return
			}
			if len(objs) != 0 && len(objs) != n {
				errc <- errors.New("reader saw a partial publish")
				return
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	if moved, err := s.Publish("staging/t/1/", "assets/x/"); err != nil || moved != n {
		t.Fatalf("publish = %d, %v", moved, err)
	}
	time.Sleep(5 * time.Millisecond)
	close(stop)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
