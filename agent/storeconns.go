package agent

import (
	"fmt"
	"sync"

	"google.golang.org/grpc"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// storeConns holds one gRPC connection per storage node address. Each
// lease names the node of its job and that node's address, so one agent
// reads from and uploads to several nodes; the operator's override
// (Config.StorageAddress) maps node ids to other addresses.
type storeConns struct {
	// override maps node ids to addresses; the key "" overrides every node.
	override map[string]string

	// opts secure every storage connection.
	opts []grpc.DialOption

	mu    sync.Mutex
	def   string
	conns map[string]*grpc.ClientConn
}

// newStoreConns parses the override spec (empty for none).
func newStoreConns(spec string, opts []grpc.DialOption) (*storeConns, error) {
	sc := &storeConns{conns: map[string]*grpc.ClientConn{}, opts: opts}
	if spec == "" {
		return sc, nil
	}
	nodes, err := storage.ParseNodes(spec)
	if err != nil {
		return nil, fmt.Errorf("storage override: %w", err)
	}
	sc.override = map[string]string{}
	for _, n := range nodes {
		sc.override[n.ID] = n.Address
	}
	return sc, nil
}

// setDefault records the address the leader names for leases that carry
// none (leaders from before several storage nodes existed).
func (s *storeConns) setDefault(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = addr
}

// forGrant returns the storage client for a lease.
func (s *storeConns) forGrant(g *v1.LeaseGrant) (*storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := g.GetStorageAddress()
	if addr == "" {
		addr = s.def
	}
	if o, ok := s.override[g.GetStorageNode()]; ok {
		addr = o
	} else if o, ok := s.override[""]; ok {
		addr = o
	}
	if addr == "" {
		return nil, fmt.Errorf("no address for storage node %q from the lease or flags", g.GetStorageNode())
	}
	cc, ok := s.conns[addr]
	if !ok {
		var err error
		if cc, err = grpc.NewClient(addr, s.opts...); err != nil {
			return nil, fmt.Errorf("dial storage %s: %w", addr, err)
		}
		s.conns[addr] = cc
	}
	return storage.NewClient(cc), nil
}

// close closes every connection.
func (s *storeConns) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, cc := range s.conns {
		_ = cc.Close()
		delete(s.conns, addr)
	}
}
