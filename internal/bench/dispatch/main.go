// Command dispatch measures how fast the leader grants leases: no-op tasks,
// 64 simulated agents over real gRPC on loopback, an embedded etcd. Next
// to it, it measures the raw rate of the fenced etcd transaction a grant is
// (compare the election key's create revision and the task's revision, put
// the task) in the same run, and prints the ratio.
//
//	go run ./internal/bench/dispatch [-jobs 1000] [-agents 64] [-slots 4]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/protobuf/proto"

	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/internal/etcdserver"
	"github.com/vodfleet/vodfleet/internal/security"
	"github.com/vodfleet/vodfleet/internal/simagent"
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
	"github.com/vodfleet/vodfleet/storage"
)

type nopPublisher struct{ *storage.Pool }

func (nopPublisher) Publish(context.Context, string, string, string) (int, error) { return 1, nil }

func main() {
	jobs := flag.Int("jobs", 1000, "jobs in the throughput phase (3 grants each)")
	agents := flag.Int("agents", 64, "simulated agents")
	slots := flag.Int("slots", 4, "slots per agent")
	rawN := flag.Int("raw", 3000, "fenced transactions in the raw phase")
	latN := flag.Int("latency-jobs", 200, "jobs submitted one by one for the latency phase")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*jobs, *agents, *slots, *rawN, *latN); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench-dispatch:", err)
		os.Exit(1)
	}
}

func run(jobs, agents, slots, rawN, latN int) error {
	dir, err := os.MkdirTemp("", "bench-dispatch")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	etcd, err := etcdserver.Start(dir, "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		return err
	}
	defer etcd.Close()
	cli, err := etcd.Client()
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	raw, err := rawFencedTxns(ctx, cli, rawN)
	if err != nil {
		return fmt.Errorf("raw phase: %w", err)
	}

	pool, err := storage.NewPool([]storage.Node{{Address: "unused:1"}})
	if err != nil {
		return err
	}
	c, err := coordinator.New(coordinator.Config{Prefix: "/bench", LeaseDuration: time.Minute},
		cli, nopPublisher{pool}, hclog.NewNullLogger())
	if err != nil {
		return err
	}
	// Plaintext loopback without authentication, and no submit limit:
	// the bench queues 1000 jobs as fast as it can.
	scfg := security.DefaultConfig()
	scfg.Insecure, scfg.SubmitRate, scfg.SubmitBurst = true, 1e9, 1<<30
	sec, err := security.New(scfg, true, hclog.NewNullLogger())
	if err != nil {
		return err
	}
	srv := sec.NewServer()
	c.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	go func() { _ = c.Run(ctx) }()
	for !c.IsLeader() {
		time.Sleep(10 * time.Millisecond)
	}
	addr := lis.Addr().String()

	conn, err := sec.Dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	js := v1.NewJobServiceClient(conn)

	// Throughput: queue every job first (submission is the client's cost,
	// not dispatch), then bring the agents up and time until each job's 3
	// grants (probe, encode, package) have been received.
	req := &v1.SubmitJobRequest{Source: &v1.Source{Location: &v1.Source_Url{Url: "http://bench.invalid/a.mp4"}}}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := js.SubmitJob(ctx, req); err != nil {
				fmt.Fprintln(os.Stderr, "submit:", err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(time.Second) // the leader has taken every job from its watch
	start := time.Now()
	var grants atomic.Int64
	probeGrant := sync.Map{} // job id -> chan time.Time
	for i := 0; i < agents; i++ {
		a := &simagent.Agent{ID: fmt.Sprintf("sim-%d", i), Slots: slots, Coordinators: []string{addr}, DialOptions: sec.DialOptions(),
			OnGrant: func(g simagent.Grant) {
				grants.Add(1)
				if g.Task.GetSpec().GetKind() == v1.TaskKind_TASK_KIND_PROBE {
					if ch, ok := probeGrant.Load(g.Task.GetJobId()); ok {
						ch.(chan time.Time) <- g.At
					}
				}
			}}
		go a.Run(ctx)
	}
	want := int64(3 * jobs)
	deadline := time.Now().Add(10 * time.Minute)
	for grants.Load() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d grants after 10 minutes", grants.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	rate := float64(want) / elapsed.Seconds()

	// Latency: one job at a time on an idle cluster, submit to probe grant.
	var lat []time.Duration
	for i := 0; i < latN; i++ {
		ch := make(chan time.Time, 1)
		t0 := time.Now()
		resp, err := js.SubmitJob(ctx, req)
		if err != nil {
			return err
		}
		probeGrant.Store(resp.GetJob().GetId(), ch)
		select {
		case at := <-ch:
			lat = append(lat, at.Sub(t0))
		case <-time.After(10 * time.Second):
			return fmt.Errorf("job %s: no probe grant within 10s", resp.GetJob().GetId())
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }

	fmt.Printf("bench-dispatch: %d simulated agents x %d slots over gRPC, embedded etcd, %d jobs (%d grants)\n", agents, slots, jobs, want)
	fmt.Printf("  raw fenced etcd Txn (sequential)   %8.0f txn/s   (%d txns)\n", raw, rawN)
	fmt.Printf("  vodfleet lease grants              %8.0f grants/s (%.2fs)\n", rate, elapsed.Seconds())
	fmt.Printf("  ratio grants/raw                   %8.2f   (target >= 1.0)\n", rate/raw)
	fmt.Printf("  grant latency, submit -> probe grant on an idle cluster (%d jobs): p50 %s  p99 %s  max %s\n",
		len(lat), p(0.5).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	return nil
}

// rawFencedTxns measures sequential grant-shaped transactions: guarded by
// an election key's create revision and the task record's revision.
func rawFencedTxns(ctx context.Context, cli *clientv3.Client, n int) (float64, error) {
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, "/raw/leader")
	if err := el.Campaign(ctx, "raw"); err != nil {
		return 0, err
	}
	task := &v1.Task{Id: "0123456789abcdef0123.video-1080p", JobId: "0123456789abcdef0123", Name: "video-1080p",
		State: v1.TaskState_TASK_STATE_RUNNING, Attempt: 1, AgentId: "agent-1",
		Spec: &v1.TaskSpec{Kind: v1.TaskKind_TASK_KIND_ENCODE_VIDEO, Source: &v1.Source{Location: &v1.Source_Url{Url: "http://bench.invalid/a.mp4"}},
			Rendition:      &v1.Rendition{Name: "1080p", Width: 1920, Height: 1080, VideoBitrate: 5e6, MaxBitrate: 7.5e6, Profile: "high", Level: "4.0"},
			SegmentSeconds: 4, Requires: simagent.Labels}}
	data, err := proto.Marshal(task)
	if err != nil {
		return 0, err
	}
	revs := make([]int64, n)
	for i := 0; i < n; i++ {
		resp, err := cli.Put(ctx, fmt.Sprintf("/raw/tasks/%06d", i), string(data))
		if err != nil {
			return 0, err
		}
		revs[i] = resp.Header.Revision
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("/raw/tasks/%06d", i)
		resp, err := cli.Txn(ctx).If(
			clientv3.Compare(clientv3.CreateRevision(el.Key()), "=", el.Rev()),
			clientv3.Compare(clientv3.ModRevision(key), "=", revs[i]),
		).Then(clientv3.OpPut(key, string(data))).Commit()
		if err != nil {
			return 0, err
		}
		if !resp.Succeeded {
			return 0, fmt.Errorf("raw txn %d did not apply", i)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
