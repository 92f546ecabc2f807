package coordinator

import (
	"errors"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

func TestPlaceAsset(t *testing.T) {
	pool, err := storage.NewPool([]storage.Node{{ID: "s1", Address: "a:1"}, {ID: "s2", Address: "b:1"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &Coordinator{pub: pool}
	uploaded := func(node string) *v1.Source {
		return &v1.Source{Location: &v1.Source_StoragePath{StoragePath: "sources/x/a.mp4"}, StorageNode: node}
	}
	if n, err := c.placeAsset("job-1", uploaded("s2")); err != nil || n != "s2" {
		t.Fatalf("uploaded to s2: %q %v", n, err)
	}
	if n, err := c.placeAsset("job-1", uploaded("")); err != nil || n != "s1" {
		t.Fatalf("uploaded without a node: %q %v, want the first node", n, err)
	}
	if _, err := c.placeAsset("job-1", uploaded("s9")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown source node: %v, want ErrInvalid", err)
	}
	seen := map[string]int{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		n, err := c.placeAsset(id, &v1.Source{Location: &v1.Source_Url{Url: "https://example.com/a.mp4"}})
		if err != nil {
			t.Fatal(err)
		}
		seen[n]++
	}
	if seen["s1"] == 0 || seen["s2"] == 0 {
		t.Fatalf("URL sources all placed on one node: %v", seen)
	}
}
