package coordinator

import (
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fence guards leader writes: a write made with a fence only applies while
// the election key it names still has the create revision it had when this
// coordinator won. A deposed leader's writes therefore fail instead of
// clobbering its successor's.
type Fence struct {
	// Key is the leader's election key.
	Key string
	// Rev is that key's create revision.
	Rev int64
}

// cmp is the etcd comparison that holds only while the fence is current.
func (f Fence) cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)
}
