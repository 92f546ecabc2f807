package edge

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestFastServerBodiesUnderConcurrency requests many distinct objects,
// cold and warm, from many goroutines through the fasthttp listener and
// checks every body against the origin's bytes: pooled buffers on either
// path must never leak one response into another or into the cache.
func TestFastServerBodiesUnderConcurrency(t *testing.T) {
	o := newFakeOrigin(t)
	const n = 40
	want := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("a3/v1/seg_%05d.m4s", i)
		data := bytes.Repeat([]byte(fmt.Sprintf("object %05d|", i)), 2000+i*37)
		o.put(key, data)
		want[key] = data
	}
	s, _ := newTestEdge(t, o.srv.URL, nil)
	fast := startFast(t, s)
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 6 {
				for i := range n {
					key := fmt.Sprintf("a3/v1/seg_%05d.m4s", (i*7+g+round)%n)
					resp, body := doURL(t, "GET", fast+"/v/"+key, nil)
					if resp.StatusCode != 200 || !bytes.Equal(body, want[key]) {
						errs <- fmt.Sprintf("%s: %d, %d bytes (%q...), X-Cache %s", key, resp.StatusCode, len(body), body[:min(len(body), 14)], resp.Header.Get("X-Cache"))
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	bad := 0
	for e := range errs {
		if bad++; bad <= 5 {
			t.Error(e)
		}
	}
	if bad > 0 {
		t.Fatalf("%d wrong bodies", bad)
	}
}
