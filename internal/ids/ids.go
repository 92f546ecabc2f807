// Package ids generates identifiers for jobs and uploads.
package ids

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Generator makes new unique ids. It is injected so tests can make ids
// deterministic.
type Generator interface {
	// New returns a fresh id.
	New() string
}

// TimeRandom makes ids that sort by creation time: 12 hex digits of Unix
// milliseconds followed by 8 random hex digits. Sorted etcd keys therefore
// list jobs in submission order without a secondary index.
type TimeRandom struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// New returns a time-ordered random id.
func (g TimeRandom) New() string {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("ids: crypto/rand failed: %v", err))
	}
	return fmt.Sprintf("%012x%s", now().UnixMilli(), hex.EncodeToString(b[:]))
}

// Valid reports whether s has the shape of an id made here, or of any id we
// accept from clients: 1 to 64 characters of [A-Za-z0-9_-].
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}
