package edge

import (
	"errors"
	"fmt"
	"strings"
)

// OriginNode is one storage node's HTTP origin.
type OriginNode struct {
	// ID is the node id (the storage node's --node-id), as written in
	// its asset records.
	ID string
	// URL is the base URL of its HTTP origin, e.g. http://10.0.0.5:7002.
	URL string
}

// ParseOrigins reads an origin list: a single base URL (or host:port), or
// comma-separated "id=URL" entries for several storage nodes. A bare
// host:port gets "http://".
func ParseOrigins(spec string) ([]OriginNode, error) {
	var out []OriginNode
	for _, e := range strings.Split(spec, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		var n OriginNode
		if id, u, ok := strings.Cut(e, "="); ok && !strings.Contains(id, "/") {
			n = OriginNode{ID: strings.TrimSpace(id), URL: strings.TrimSpace(u)}
			if n.ID == "" {
				return nil, fmt.Errorf("origin %q: empty node id", e)
			}
		} else {
			n = OriginNode{URL: e}
		}
		if n.URL != "" && !strings.Contains(n.URL, "://") {
			n.URL = "http://" + n.URL
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no origin given")
	}
	return out, nil
}
