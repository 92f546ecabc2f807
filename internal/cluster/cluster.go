// Package cluster runs vodfleet as a real multi-process cluster for tests:
// the built binary as storage, edge, coordinators and agents on loopback
// ports, around an embedded etcd, with kill -9, SIGTERM, SIGSTOP/SIGCONT
// and restart of any process.
package cluster

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/etcdserver/etcdtest"
	"github.com/vodfleet/vodfleet/internal/security"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

// Options shape a cluster.
type Options struct {
	// Coordinators and Agents are process counts.
	Coordinators, Agents int
	// AgentSlots is each agent's slots.
	AgentSlots int
	// SessionTTL is the election session TTL; Lease the task lease.
	SessionTTL, Lease time.Duration
	// DrainTimeout is the agents' --drain-timeout.
	DrainTimeout time.Duration
	// Insecure runs every process with --insecure (plaintext, no
	// authentication) instead of mTLS with a throwaway CA.
	Insecure bool
	// StorageNodes is the number of storage processes (default 1), with
	// node ids s1, s2, ...; coordinators and the edge are given them all.
	StorageNodes int
}

// Cluster is a running multi-process cluster.
type Cluster struct {
	t    testing.TB
	opts Options
	// Etcd runs inside the test process.
	Etcd *etcdserver.Server
	// Storage, Edge, Coordinators and Agents are the processes; Storage is
	// the first of Storages.
	Storage, Edge       *Proc
	Storages            []*Proc
	Coordinators, Agent []*Proc
	// CoordAddrs are the coordinators' gRPC addresses, by index.
	CoordAddrs []string
	// StorageGRPC, StorageHTTP and EdgeAddr are the other addresses (of
	// the first storage node); StorageHTTPs has every node's, by index.
	StorageGRPC, StorageHTTP, EdgeAddr string
	StorageHTTPs                       []string

	// PKI is the cluster's CA and role certificates; nil when Insecure.
	PKI *PKI

	etcdCli *clientv3.Client
	conns   []*grpc.ClientConn
	store   *storage.Client   // of the first node
	stores  []*storage.Client // by node index
}

// FreeAddr returns a loopback address whose port was free just now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const prefix = "/vodfleet"

// New starts a cluster and waits until a leader is elected and every agent
// has a session.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.AgentSlots == 0 {
		o.AgentSlots = 2
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 2 * time.Second
	}
	if o.Lease == 0 {
		o.Lease = 6 * time.Second
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.StorageNodes == 0 {
		o.StorageNodes = 1
	}
	c := &Cluster{t: t, opts: o}
	if !o.Insecure {
		c.PKI = NewPKI(t)
	}
	sec := c.PKI.Security(t)
	c.Etcd, c.etcdCli = etcdtest.Start(t)
	var grpcNodes, httpNodes []string
	for i := 1; i <= o.StorageNodes; i++ {
		id, ga, ha := fmt.Sprintf("s%d", i), FreeAddr(t), FreeAddr(t)
		name := "storage"
		if i > 1 {
			name = "storage-" + id
		}
		c.Storages = append(c.Storages, StartProc(t, name, append([]string{"storage", "--data", t.TempDir(), "--grpc", ga, "--http", ha, "--node-id", id},
			c.PKI.Args(security.RoleStorage)...)...))
		c.StorageHTTPs = append(c.StorageHTTPs, ha)
		grpcNodes, httpNodes = append(grpcNodes, id+"="+ga), append(httpNodes, id+"=http://"+ha)
	}
	c.Storage, c.StorageGRPC, c.StorageHTTP = c.Storages[0], strings.TrimPrefix(grpcNodes[0], "s1="), c.StorageHTTPs[0]
	c.EdgeAddr = FreeAddr(t)
	c.Edge = StartProc(t, "edge", append([]string{"edge", "--storage", strings.Join(httpNodes, ","), "--listen", c.EdgeAddr},
		c.PKI.Args(security.RoleEdge)...)...)
	for i := 0; i < o.Coordinators; i++ {
		addr := FreeAddr(t)
		c.CoordAddrs = append(c.CoordAddrs, addr)
		c.Coordinators = append(c.Coordinators, StartProc(t, fmt.Sprintf("coordinator-%d", i), append([]string{"coordinator",
			"--etcd", c.Etcd.Endpoint(), "--listen", addr, "--storage", strings.Join(grpcNodes, ","),
			"--playback-url", "http://" + c.EdgeAddr, "--session-ttl", o.SessionTTL.String(), "--lease", o.Lease.String(),
			"--log-level", "debug", "--allow-private-sources"}, c.PKI.Args(security.RoleCoordinator)...)...))
		conn, err := sec.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		c.conns = append(c.conns, conn)
		t.Cleanup(func() { conn.Close() })
	}
	for i := 0; i < o.Agents; i++ {
		c.Agent = append(c.Agent, StartProc(t, fmt.Sprintf("agent-%d", i), append([]string{"agent",
			"--coordinator", strings.Join(c.CoordAddrs, ","), "--id", fmt.Sprintf("agent-%d", i),
			"--slots", strconv.Itoa(o.AgentSlots), "--work-dir", t.TempDir(),
			"--reconnect-max", "1s", "--drain-timeout", o.DrainTimeout.String(), "--log-level", "debug", "--allow-private-sources"},
			c.PKI.Args(security.RoleAgent)...)...))
	}
	for _, n := range grpcNodes {
		sconn, err := sec.Dial(n[strings.Index(n, "=")+1:])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sconn.Close() })
		c.stores = append(c.stores, storage.NewClient(sconn))
	}
	c.store = c.stores[0]
	// Storage opens its store before it listens (a second or more on a
	// loaded machine): uploads must wait for that, not race it.
	for _, s := range c.Storages {
		s.WaitLog("storage listening", 30*time.Second)
	}
	c.Edge.WaitLog("edge listening", 30*time.Second)
	c.WaitLeader(30 * time.Second)
	for _, a := range c.Agent {
		a.WaitLog("session accepted", 30*time.Second)
	}
	return c
}

// AddAgent starts one more agent process with extra flags (e.g. --label).
func (c *Cluster) AddAgent(id string, extra ...string) *Proc {
	c.t.Helper()
	args := append([]string{"agent", "--coordinator", strings.Join(c.CoordAddrs, ","), "--id", id,
		"--slots", strconv.Itoa(c.opts.AgentSlots), "--work-dir", c.t.TempDir(),
		"--reconnect-max", "1s", "--drain-timeout", c.opts.DrainTimeout.String(), "--log-level", "debug", "--allow-private-sources"},
		append(c.PKI.Args(security.RoleAgent), extra...)...)
	p := StartProc(c.t, id, args...)
	p.WaitLog("session accepted", 30*time.Second)
	c.Agent = append(c.Agent, p)
	return p
}

// AgentByID returns the agent process with that --id.
func (c *Cluster) AgentByID(id string) *Proc {
	c.t.Helper()
	for _, a := range c.Agent {
		if a.Name == id {
			return a
		}
	}
	c.t.Fatalf("no agent %q", id)
	return nil
}

// LeaderIndex returns the index of the coordinator holding leadership
// according to etcd, or -1.
func (c *Cluster) LeaderIndex() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.etcdCli.Get(ctx, prefix+"/leader/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) == 0 {
		return -1
	}
	for i, a := range c.CoordAddrs {
		if a == string(resp.Kvs[0].Value) {
			return i
		}
	}
	return -1
}

// WaitLeader waits until some coordinator leads and returns its index.
func (c *Cluster) WaitLeader(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if i := c.LeaderIndex(); i >= 0 && strings.Contains(c.Coordinators[i].Log(), "elected leader") {
			return i
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no leader within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitNewLeader waits until a coordinator other than old leads.
func (c *Cluster) WaitNewLeader(old int, timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if i := c.LeaderIndex(); i >= 0 && i != old && strings.Contains(c.Coordinators[i].Log(), "elected leader") {
			return i
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no new leader within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Jobs calls f with a JobService client of each coordinator in turn until
// one answers with something other than Unavailable (any coordinator
// serves clients; some may be down).
func (c *Cluster) Jobs(f func(v1.JobServiceClient) error) error {
	var err error
	for _, conn := range c.conns {
		if err = f(v1.NewJobServiceClient(conn)); status.Code(err) != codes.Unavailable {
			return err
		}
	}
	return err
}

// Submit uploads a local source to the first storage node and submits a
// job for it.
func (c *Cluster) Submit(local string, req *v1.SubmitJobRequest) string {
	c.t.Helper()
	return c.SubmitOn(0, local, req)
}

// SubmitOn uploads a local source to storage node i (by index) and submits
// a job for it; the job publishes to that node.
func (c *Cluster) SubmitOn(i int, local string, req *v1.SubmitJobRequest) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if req == nil {
		req = &v1.SubmitJobRequest{}
	}
	if local != "" {
		path := fmt.Sprintf("sources/%d/src.mp4", time.Now().UnixNano())
		obj, err := c.stores[i].PutFile(ctx, path, local, "")
		if err != nil {
			c.t.Fatalf("upload: %v", err)
		}
		req.Source = &v1.Source{Location: &v1.Source_StoragePath{StoragePath: path}, StorageNode: obj.GetNode()}
	}
	var id string
	err := c.Jobs(func(j v1.JobServiceClient) error {
		resp, err := j.SubmitJob(ctx, req)
		if err == nil {
			id = resp.GetJob().GetId()
		}
		return err
	})
	if err != nil {
		c.t.Fatalf("submit: %v", err)
	}
	return id
}

// Get reads a job and its tasks through any coordinator.
func (c *Cluster) Get(id string) (*v1.GetJobResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out *v1.GetJobResponse
	err := c.Jobs(func(j v1.JobServiceClient) (err error) {
		out, err = j.GetJob(ctx, &v1.GetJobRequest{JobId: id})
		return err
	})
	return out, err
}

// WaitDone waits until every job is terminal and returns them.
func (c *Cluster) WaitDone(timeout time.Duration, ids ...string) map[string]*v1.GetJobResponse {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	out := map[string]*v1.GetJobResponse{}
	for len(out) < len(ids) {
		for _, id := range ids {
			if _, ok := out[id]; ok {
				continue
			}
			r, err := c.Get(id)
			if err == nil && isTerminal(r.GetJob().GetState()) {
				out[id] = r
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("jobs not finished within %s: %d of %d done", timeout, len(out), len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return out
}

// WaitTask polls until cond holds for some task of the job and returns it.
func (c *Cluster) WaitTask(id string, timeout time.Duration, what string, cond func(*v1.Task) bool) *v1.Task {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if r, err := c.Get(id); err == nil {
			for _, tk := range r.GetTasks() {
				if cond(tk) {
					return tk
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("job %s: no task %s within %s", id, what, timeout)
	return nil
}

func isTerminal(s v1.JobState) bool {
	return s == v1.JobState_JOB_STATE_SUCCEEDED || s == v1.JobState_JOB_STATE_FAILED || s == v1.JobState_JOB_STATE_CANCELLED
}

var publishLine = regexp.MustCompile(`published: from=(\S+) to=(\S+) objects=(\d+)`)

// Publishes parses the storage log: for every destination prefix, the
// staging prefixes whose objects were moved there (moves of 0 objects, the
// idempotent re-applies, are left out).
func (c *Cluster) Publishes() map[string][]string {
	out := map[string][]string{}
	for _, s := range c.Storages {
		for _, m := range publishLine.FindAllStringSubmatch(s.Log(), -1) {
			if m[3] != "0" {
				out[m[2]] = append(out[m[2]], m[1])
			}
		}
	}
	return out
}
