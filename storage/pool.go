package storage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"google.golang.org/grpc"
)

// ErrUnknownNode means a node id names none of a Pool's storage nodes.
var ErrUnknownNode = errors.New("unknown storage node")

// Node names one storage node: the id it records in asset records
// (Config.NodeID, the --node-id flag) and its gRPC address.
type Node struct {
	// ID is the node id; it may be empty only when the pool has one node.
	ID string
	// Address is the gRPC address (host:port).
	Address string
}

// ParseNodes reads a node list: a comma-separated list of "id=address"
// entries, or a single bare address for a one-node deployment whose id
// does not matter. Ids must be unique; several nodes all need ids.
func ParseNodes(spec string) ([]Node, error) {
	var nodes []Node
	seen := map[string]bool{}
	for _, e := range strings.Split(spec, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		var n Node
		if id, addr, ok := strings.Cut(e, "="); ok {
			n = Node{ID: strings.TrimSpace(id), Address: strings.TrimSpace(addr)}
			if n.ID == "" {
				return nil, fmt.Errorf("storage node %q: empty id", e)
			}
		} else {
			n = Node{Address: e}
		}
		if n.Address == "" {
			return nil, fmt.Errorf("storage node %q: empty address", e)
		}
		if seen[n.ID] {
			return nil, fmt.Errorf("storage node id %q listed twice", n.ID)
		}
		seen[n.ID] = true
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		return nil, errors.New("no storage node given")
	}
	if len(nodes) > 1 && seen[""] {
		return nil, fmt.Errorf("several storage nodes need ids (id=address,...): %q", spec)
	}
	return nodes, nil
}

// Pool holds one Client per storage node, dialed lazily, and decides which
// node a new asset goes to. It is safe for concurrent use.
type Pool struct {
	nodes []Node
	opts  []grpc.DialOption
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// NewPool returns a pool over nodes (see ParseNodes) that dials with opts.
func NewPool(nodes []Node, opts ...grpc.DialOption) (*Pool, error) {
	if len(nodes) == 0 {
		return nil, errors.New("storage pool: no nodes")
	}
	return &Pool{nodes: append([]Node(nil), nodes...), opts: opts, conns: map[string]*grpc.ClientConn{}}, nil
}

// Nodes returns the configured nodes in order.
func (p *Pool) Nodes() []Node { return append([]Node(nil), p.nodes...) }

// Node resolves a node id. The empty id is the first node, and in a
// one-node pool whose node has no id, any id is that node (it is whatever
// the node calls itself).
func (p *Pool) Node(id string) (Node, error) {
	if id == "" {
		return p.nodes[0], nil
	}
	for _, n := range p.nodes {
		if n.ID == id {
			return n, nil
		}
	}
	if len(p.nodes) == 1 && p.nodes[0].ID == "" {
		return p.nodes[0], nil
	}
	return Node{}, fmt.Errorf("%w: %q", ErrUnknownNode, id)
}

// Pick chooses the node for a new asset by rendezvous hashing of key: the
// choice is stable for a key, spreads keys evenly, and adding a node moves
// only the keys it wins.
func (p *Pool) Pick(key string) Node {
	best, bestScore := p.nodes[0], uint64(0)
	for i, n := range p.nodes {
		h := fnv.New64a()
		_, _ = h.Write([]byte(n.ID))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(key))
		if s := mix64(h.Sum64()); i == 0 || s > bestScore {
			best, bestScore = n, s
		}
	}
	return best
}

// Client returns the client of node id (see Node for how ids resolve).
func (p *Pool) Client(id string) (*Client, error) {
	n, err := p.Node(id)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cc, ok := p.conns[n.Address]
	if !ok {
		if cc, err = grpc.NewClient(n.Address, p.opts...); err != nil {
			return nil, fmt.Errorf("dial storage node %s at %s: %w", n.ID, n.Address, err)
		}
		p.conns[n.Address] = cc
	}
	return NewClient(cc), nil
}

// Publish moves staged objects into an asset on node id.
func (p *Pool) Publish(ctx context.Context, node, from, to string) (int, error) {
	c, err := p.Client(node)
	if err != nil {
		return 0, err
	}
	return c.Publish(ctx, from, to)
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for addr, cc := range p.conns {
		errs = append(errs, cc.Close())
		delete(p.conns, addr)
	}
	return errors.Join(errs...)
}

// mix64 is the splitmix64 finalizer: FNV alone spreads keys that differ
// only in their last bytes poorly across nodes.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
