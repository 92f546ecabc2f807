package ids

import (
	"testing"
	"time"
)

func TestTimeRandomSortsByTime(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	g := TimeRandom{Now: func() time.Time { return now }}
	a := g.New()
	now = now.Add(time.Millisecond)
	b := g.New()
	if !(a < b) || len(a) != 20 || !Valid(a) {
		t.Fatalf("ids %q then %q", a, b)
	}
	if g.New() == b {
		t.Fatal("two ids in the same millisecond are equal")
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"agent-1": true, "A_b-9": true, "": false, "a.b": false, "a/b": false, "ä": false,
		"0123456789012345678901234567890123456789012345678901234567890123":  true,
		"01234567890123456789012345678901234567890123456789012345678901234": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
