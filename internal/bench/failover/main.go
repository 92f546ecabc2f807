// Command failover measures how long work stops when things fail, on a
// real cluster: three coordinator processes and a storage process of the
// built binary on an embedded etcd, simulated agents over gRPC, and a
// steady queue of jobs. It prints:
//
//   - kill -9 of the leader until the next lease is granted (target <= session TTL + 1 s)
//
//   - graceful stop (SIGTERM) of the leader until the next grant (target <= 0.5 s)
//
//   - kill of an agent holding a lease until that task is granted again (target <= lease + 1 s)
//
//     go run ./internal/bench/failover -bin bin/vodfleet [-ttl 5s] [-lease 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/internal/simagent"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

func main() {
	bin := flag.String("bin", "bin/vodfleet", "vodfleet binary")
	ttl := flag.Duration("ttl", 5*time.Second, "coordinator session TTL")
	lease := flag.Duration("lease", 10*time.Second, "task lease duration")
	flag.Parse()
	if err := run(*bin, *ttl, *lease); err != nil {
		fmt.Fprintln(os.Stderr, "bench-failover:", err)
		os.Exit(1)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// grantLog records every grant the simulated agents receive.
type grantLog struct {
	mu     sync.Mutex
	grants []simagent.Grant
}

func (g *grantLog) add(x simagent.Grant) {
	g.mu.Lock()
	g.grants = append(g.grants, x)
	g.mu.Unlock()
}

// waitFirst returns the first grant after t matching ok. It scans only
// what arrived since its last look, so the agents' receive loops are never
// held up by the lock.
func (g *grantLog) waitFirst(t time.Time, timeout time.Duration, ok func(simagent.Grant) bool) (simagent.Grant, error) {
	deadline := time.Now().Add(timeout)
	g.mu.Lock()
	next := len(g.grants)
	for next > 0 && g.grants[next-1].At.After(t) {
		next--
	}
	g.mu.Unlock()
	for time.Now().Before(deadline) {
		g.mu.Lock()
		fresh := g.grants[next:]
		next = len(g.grants)
		g.mu.Unlock()
		for _, x := range fresh {
			if x.At.After(t) && ok(x) {
				return x, nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return simagent.Grant{}, fmt.Errorf("no matching grant within %s", timeout)
}

func run(bin string, ttl, lease time.Duration) error {
	dir, err := os.MkdirTemp("", "bench-failover")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	etcd, err := etcdserver.Start(dir+"/etcd", "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		return err
	}
	defer etcd.Close()
	cli, err := etcd.Client()
	if err != nil {
		return err
	}
	defer cli.Close()

	sec := security.MustInsecure(hclog.NewNullLogger())
	var procs []*exec.Cmd
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		procs = append(procs, cmd)
		return cmd
	}
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_, _ = p.Process.Wait()
		}
	}()
	stGRPC := freeAddr()
	// Plaintext on loopback (--insecure): the figures are about failover,
	// and the submit limit is lifted for the steady 100 jobs/s.
	start("storage", "--data", dir+"/storage", "--grpc", stGRPC, "--http", freeAddr(), "--log-level", "error", "--insecure")
	addrs := []string{freeAddr(), freeAddr(), freeAddr()}
	coordArgs := func(i int) []string {
		return []string{"coordinator", "--etcd", etcd.Endpoint(), "--listen", addrs[i], "--storage", stGRPC,
			"--session-ttl", ttl.String(), "--lease", lease.String(), "--log-level", "error",
			"--insecure", "--submit-rate", "10000", "--submit-burst", "10000"}
	}
	coords := make([]*exec.Cmd, 3)
	for i := range coords {
		coords[i] = start(coordArgs(i)...)
	}
	leader := func() int {
		for {
			resp, err := cli.Get(context.Background(), "/vodfleet/leader/", clientv3.WithFirstCreate()...)
			if err == nil && len(resp.Kvs) > 0 {
				for i, a := range addrs {
					if a == string(resp.Kvs[0].Value) {
						return i
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &grantLog{}
	for i := 0; i < 4; i++ {
		a := &simagent.Agent{ID: fmt.Sprintf("sim-%d", i), Slots: 8, Coordinators: addrs, CompleteAfter: 20 * time.Millisecond, OnGrant: log.add, DialOptions: sec.DialOptions()}
		go a.Run(ctx)
	}
	// A steady supply of work: 100 jobs/s through any coordinator.
	go func() {
		conns := make([]v1.JobServiceClient, len(addrs))
		for i, a := range addrs {
			c, err := sec.Dial(a)
			if err != nil {
				return
			}
			defer c.Close()
			conns[i] = v1.NewJobServiceClient(c)
		}
		req := &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "http://bench.invalid/a.mp4"}}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ctx.Err() == nil; i++ {
			<-tick.C
			rctx, rcancel := context.WithTimeout(ctx, time.Second)
			_, _ = conns[i%len(conns)].SubmitJob(rctx, req)
			rcancel()
		}
	}()
	if _, err := log.waitFirst(time.Now(), 30*time.Second, func(simagent.Grant) bool { return true }); err != nil {
		return fmt.Errorf("cluster never granted: %w", err)
	}
	time.Sleep(2 * time.Second)

	// 1. kill -9 the leader.
	old := leader()
	_ = coords[old].Process.Signal(syscall.SIGKILL)
	_, _ = coords[old].Process.Wait()
	t0 := time.Now()
	g, err := log.waitFirst(t0, 3*ttl+30*time.Second, func(x simagent.Grant) bool { return x.From != addrs[old] })
	if err != nil {
		return fmt.Errorf("after kill -9 of the leader: %w", err)
	}
	killGap := g.At.Sub(t0)
	coords[old] = start(coordArgs(old)...)
	time.Sleep(3 * time.Second)

	// 2. graceful stop of the leader.
	old = leader()
	t0 = time.Now()
	_ = coords[old].Process.Signal(syscall.SIGTERM)
	g, err = log.waitFirst(t0, 3*ttl+30*time.Second, func(x simagent.Grant) bool { return x.From != addrs[old] })
	if err != nil {
		return fmt.Errorf("after stopping the leader: %w", err)
	}
	stopGap := g.At.Sub(t0)
	_, _ = coords[old].Process.Wait()
	coords[old] = start(coordArgs(old)...)
	time.Sleep(3 * time.Second)

	// 3. an agent dies holding a lease.
	vctx, vcancel := context.WithCancel(ctx)
	held := make(chan simagent.Grant, 1)
	victim := &simagent.Agent{ID: "victim", Slots: 64, Coordinators: addrs, Hold: true, DialOptions: sec.DialOptions(), OnGrant: func(x simagent.Grant) {
		log.add(x)
		select {
		case held <- x:
		default:
		}
	}}
	go victim.Run(vctx)
	var vg simagent.Grant
	select {
	case vg = <-held:
	case <-time.After(30 * time.Second):
		vcancel()
		return fmt.Errorf("victim agent got no lease")
	}
	vcancel() // the agent dies: its stream closes, its lease is orphaned
	tk := time.Now()
	g, err = log.waitFirst(tk, lease+30*time.Second, func(x simagent.Grant) bool {
		return x.Task.GetId() == vg.Task.GetId() && x.Agent != "victim"
	})
	if err != nil {
		return fmt.Errorf("orphaned task %s: %w", vg.Task.GetId(), err)
	}
	orphanGap := g.At.Sub(tk)

	fmt.Printf("bench-failover: 3 coordinator processes, session TTL %s, lease %s, 4 simulated agents x 8 slots, 100 jobs/s\n", ttl, lease)
	fmt.Printf("  kill -9 leader -> next grant        %8s   (target <= %s)\n", killGap.Round(time.Millisecond), ttl+time.Second)
	fmt.Printf("  SIGTERM leader -> next grant        %8s   (target <= 500ms)\n", stopGap.Round(time.Millisecond))
	fmt.Printf("  agent dies -> its task re-granted   %8s   (target <= %s)\n", orphanGap.Round(time.Millisecond), lease+time.Second)
	return nil
}
