package edge

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

func obj(n int) *Object {
	return NewObject(bytes.Repeat([]byte("x"), n), "video/iso.segment", `"e"`, time.Time{})
}

func TestLRUEvictionRespectsBudget(t *testing.T) {
	c := NewLRU(100)
	// Each entry costs len(key)+len(data) = 2+28 = 30 bytes.
	for i := range 3 {
		if !c.Add(fmt.Sprintf("k%d", i), obj(28)) {
			t.Fatalf("add k%d refused", i)
		}
	}
	if c.Len() != 3 || c.Bytes() != 90 {
		t.Fatalf("len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Get("k0") // k0 is now most recent; k1 is oldest
	c.Add("k3", obj(28))
	if c.Bytes() > 100 || c.Len() != 3 {
		t.Fatalf("over budget: len %d bytes %d", c.Len(), c.Bytes())
	}
	if _, ok := c.Get("k1"); ok {
		t.Fatal("k1 should have been evicted as least recently used")
	}
	for _, k := range []string{"k0", "k2", "k3"} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
	// A large object evicts several entries.
	c.Add("big", obj(67)) // 70 bytes
	if c.Bytes() > 100 || c.Len() != 2 {
		t.Fatalf("after big: len %d bytes %d", c.Len(), c.Bytes())
	}
	// Replacing a key re-charges, not double-charges.
	c.Add("big", obj(17))
	if c.Bytes() != 50 || c.Len() != 2 {
		t.Fatalf("after replace: len %d bytes %d", c.Len(), c.Bytes())
	}
}

func TestLRURefusesObjectLargerThanBudget(t *testing.T) {
	c := NewLRU(100)
	c.Add("keep", obj(10))
	if c.Add("huge", obj(200)) {
		t.Fatal("object larger than budget was stored")
	}
	if _, ok := c.Get("keep"); !ok || c.Len() != 1 || c.Bytes() != 14 {
		t.Fatalf("existing entries disturbed: len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Remove("keep")
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after remove: len %d bytes %d", c.Len(), c.Bytes())
	}
	if NewLRU(0).Add("k", obj(0)) {
		t.Fatal("zero budget stored an entry")
	}
}

func TestLRUConcurrent(t *testing.T) {
	c := NewLRU(1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprintf("k%d", (g*31+i)%40)
				if i%3 == 0 {
					c.Add(k, obj(i%50))
				} else {
					c.Get(k)
				}
				if b := c.Bytes(); b > 1000 {
					t.Errorf("bytes %d over budget", b)
					return
				}
			}
		})
	}
	wg.Wait()
}
