package storage

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseNodes(t *testing.T) {
	good := map[string][]Node{
		"127.0.0.1:7001":              {{Address: "127.0.0.1:7001"}},
		"a=h1:1, b=h2:2":              {{ID: "a", Address: "h1:1"}, {ID: "b", Address: "h2:2"}},
		"only=h:1":                    {{ID: "only", Address: "h:1"}},
		"a=h1:1,,b=h2:2,":             {{ID: "a", Address: "h1:1"}, {ID: "b", Address: "h2:2"}},
		"  x = 127.0.0.1:9 ":          {{ID: "x", Address: "127.0.0.1:9"}},
		"n1=[::1]:7001,n2=[::1]:7011": {{ID: "n1", Address: "[::1]:7001"}, {ID: "n2", Address: "[::1]:7011"}},
	}
	for spec, want := range good {
		got, err := ParseNodes(spec)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ParseNodes(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", " , ", "=h:1", "a=", "a=h:1,a=h:2", "h:1,h:2", "a=h:1,h:2"} {
		if got, err := ParseNodes(spec); err == nil {
			t.Errorf("ParseNodes(%q) = %v, want an error", spec, got)
		}
	}
}

func TestPoolNodeAndPick(t *testing.T) {
	single, _ := NewPool([]Node{{Address: "h:1"}})
	if n, err := single.Node("whatever-the-node-calls-itself"); err != nil || n.Address != "h:1" {
		t.Fatalf("single unnamed node: %v %v", n, err)
	}
	pool, _ := NewPool([]Node{{ID: "a", Address: "h1:1"}, {ID: "b", Address: "h2:1"}, {ID: "c", Address: "h3:1"}})
	if n, _ := pool.Node(""); n.ID != "a" {
		t.Fatalf("empty id resolves to %v, want the first node", n)
	}
	if _, err := pool.Node("zz"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := pool.Client("zz"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("client of unknown id: %v", err)
	}
	count := map[string]int{}
	for i := range 3000 {
		key := fmt.Sprintf("job-%d", i)
		n := pool.Pick(key)
		if pool.Pick(key) != n {
			t.Fatalf("Pick(%q) is not stable", key)
		}
		count[n.ID]++
	}
	for _, id := range []string{"a", "b", "c"} {
		if count[id] < 800 || count[id] > 1200 {
			t.Fatalf("uneven spread over 3000 keys: %v", count)
		}
	}
	// Removing a node moves only the keys it held.
	two, _ := NewPool([]Node{{ID: "a", Address: "h1:1"}, {ID: "b", Address: "h2:1"}})
	for i := range 3000 {
		key := fmt.Sprintf("job-%d", i)
		if n := pool.Pick(key); n.ID != "c" && two.Pick(key).ID != n.ID {
			t.Fatalf("key %q moved from %s although its node stayed", key, n.ID)
		}
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
}
