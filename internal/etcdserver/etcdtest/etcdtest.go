// Package etcdtest starts an embedded etcd for a test: the one setup the
// coordinator, catalog, dashboard and cluster tests share.
package etcdtest

import (
	"testing"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vodfleet/vodfleet/internal/etcdserver"
)

// Start runs an embedded etcd on a free loopback port with its data in a
// temporary directory and returns it with a client; both are closed at
// the test's cleanup.
func Start(t testing.TB) (*etcdserver.Server, *clientv3.Client) {
	t.Helper()
	etcd, err := etcdserver.Start(t.TempDir(), "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Close)
	cli, err := etcd.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return etcd, cli
}
