package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"google.golang.org/grpc"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vodfleet/vodfleet/agent"
	"github.com/vodfleet/vodfleet/coordinator"
	"github.com/vodfleet/vodfleet/coordinator/dashboard"
	"github.com/vodfleet/vodfleet/edge"
	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/ffmpeg"
	"github.com/vodfleet/vodfleet/internal/node"
	"github.com/vodfleet/vodfleet/storage"
)

// waitForSignal blocks until SIGINT or SIGTERM.
func waitForSignal() os.Signal {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return syscall.SIGTERM
}

func runDev(args []string, _ io.Writer) error {
	stderr := os.Stderr
	d := devcluster.DefaultConfig()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.StringVar(&d.DataDir, "data", d.DataDir, "directory for etcd data, storage and agent work")
	fs.IntVar(&d.Agents, "agents", d.Agents, "number of agents")
	fs.IntVar(&d.AgentSlots, "slots", d.AgentSlots, "task slots per agent")
	fs.StringVar(&d.EtcdAddr, "etcd-listen", d.EtcdAddr, "embedded etcd client address")
	fs.StringVar(&d.CoordinatorAddr, "listen", d.CoordinatorAddr, "coordinator gRPC address (clients and agents)")
	fs.StringVar(&d.StorageGRPCAddr, "storage-grpc", d.StorageGRPCAddr, "storage gRPC address")
	fs.StringVar(&d.StorageHTTPAddr, "storage-http", d.StorageHTTPAddr, "storage HTTP origin address")
	fs.StringVar(&d.EdgeAddr, "http", d.EdgeAddr, "edge HTTP address (players)")
	fs.StringVar(&d.MetricsAddr, "metrics-listen", d.MetricsAddr, "address serving every role's Prometheus metrics at /metrics (empty: off)")
	fs.StringVar(&d.DashboardAddr, "dashboard", d.DashboardAddr, "web dashboard HTTP address (empty: off); sign in with the admin token as the password")
	fs.BoolVar(&d.Coordinator.AllowPrivateSources, "allow-private-sources", d.Coordinator.AllowPrivateSources,
		"let source URLs reach loopback and private addresses (dev is a local sandbox)")
	devCIDRs := fs.String("allowed-source-cidrs", "", "comma-separated non-public networks source URLs may reach, e.g. 10.1.0.0/16")
	limitFlags(fs, &d.Coordinator)
	unschedulableFlag(fs, &d.Coordinator)
	devHooks := webhookFlags(fs, &d.Coordinator.Webhooks)
	sourceCredentialFlags(fs, &d.Agent)
	fs.DurationVar(&d.Agent.TaskTimeout, "task-timeout", 0, "time limit of one task attempt (0: max(10m, 20 x source duration))")
	fs.DurationVar(&d.Agent.StallTimeout, "stall-timeout", agent.DefaultStallTimeout, "kill an ffmpeg (or abandon a source download) that made no progress for this long; the task is retried on another agent")
	devDests := destinationFlags(fs, &d.Agent)
	fs.BoolVar(&d.Insecure, "insecure", false, "plaintext gRPC without authentication instead of mTLS with a throwaway CA")
	fs.BoolVar(&d.OriginTLS, "http-tls", false, "serve the storage HTTP origin over TLS with client certificates (the edge presents its own)")
	level, json := logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d.Coordinator.AllowedSourceCIDRs = splitList(*devCIDRs)
	devDests()
	if err := devHooks(); err != nil {
		return err
	}
	d.Agent.AllowPrivateSources = d.Coordinator.AllowPrivateSources
	d.Agent.AllowedSourceCIDRs = d.Coordinator.AllowedSourceCIDRs
	d.Agent.MaxSourceBytes = d.Coordinator.MaxSourceBytes
	if err := checkpoint(args, d.Validate); err != nil {
		return err
	}
	log := newLogger(*level, *json)
	if d.Insecure {
		log.Warn("INSECURE: dev cluster on plaintext gRPC with no authentication (--insecure); anyone who can reach its ports controls it")
	}
	c, err := devcluster.Start(d, log)
	if err != nil {
		return err
	}
	printDevAccess(stderr, c)
	log.Info("dev cluster ready",
		"coordinator", c.Coordinator.Addr, "storage_grpc", c.Storage.GRPCAddr,
		"storage_http", "http://"+c.Storage.HTTPAddr, "edge", c.EdgeURL(),
		"etcd", c.Etcd.Endpoint(), "agents", len(c.Agents), "data", d.DataDir)
	if c.Metrics != nil {
		log.Info("metrics", "all_roles", "http://"+c.Metrics.Addr+"/metrics",
			"storage", "http://"+c.Storage.HTTPAddr+"/metrics", "edge", c.EdgeURL()+"/metrics")
	}
	if c.Dashboard != nil {
		log.Info("web dashboard", "url", c.Dashboard.URL())
	}
	sig := waitForSignal()
	log.Info("stopping", "signal", sig.String())
	c.Close()
	log.Info("stopped")
	return nil
}

func runCoordinator(args []string, _ io.Writer) error {
	cfg := coordinator.DefaultConfig()
	fs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	etcd := fs.String("etcd", "http://127.0.0.1:2379", "comma-separated etcd endpoints")
	listen := fs.String("listen", "127.0.0.1:7000", "gRPC listen address")
	metricsListen := fs.String("metrics-listen", "", "address serving Prometheus metrics at /metrics, e.g. 127.0.0.1:7091 (empty: off)")
	httpAddr := fs.String("http", "", "web dashboard HTTP listen address, e.g. 127.0.0.1:7003 (empty: off); its API takes the --token-file tokens of role admin, submitter or readonly")
	fs.StringVar(&cfg.AdvertiseAddress, "advertise", "", "address agents and followers use to reach this coordinator (default: the listen address)")
	stSpec := fs.String("storage", "127.0.0.1:7001", "storage nodes: a gRPC address, or id=address,... for several (ids are the nodes' --node-id)")
	fs.StringVar(&cfg.PlaybackBaseURL, "playback-url", "http://127.0.0.1:8080", "edge base URL for playback links")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "etcd key prefix")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", cfg.SessionTTL, "leader election session TTL")
	fs.DurationVar(&cfg.LeaseDuration, "lease", cfg.LeaseDuration, "task lease duration without progress")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "default attempts per task")
	fs.BoolVar(&cfg.AllowPrivateSources, "allow-private-sources", false,
		"accept source URLs naming loopback, private or link-local addresses (only for single-host setups)")
	coordCIDRs := fs.String("allowed-source-cidrs", "", "comma-separated non-public networks source URLs may name, e.g. 10.1.0.0/16")
	limitFlags(fs, &cfg)
	unschedulableFlag(fs, &cfg)
	hooks := webhookFlags(fs, &cfg.Webhooks)
	var sf secFlags
	sf.register(fs, secServer)
	level, json := logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.AllowedSourceCIDRs = splitList(*coordCIDRs)
	if err := hooks(); err != nil {
		return err
	}
	nodes, err := storage.ParseNodes(*stSpec)
	if err != nil {
		return fmt.Errorf("--storage: %w", err)
	}
	if err := checkpoint(args, cfg.WithDefaults().Validate); err != nil {
		return err
	}
	log := newLogger(*level, *json)
	sec, err := sf.build(true, log)
	if err != nil {
		return err
	}
	n, err := node.StartCoordinator(cfg, sec, nodes, splitList(*etcd), *listen, log)
	if err != nil {
		return err
	}
	closers := []io.Closer{n}
	if *httpAddr != "" {
		dash, err := node.StartDashboard(n.C, dashboard.Config{Authenticate: node.DashboardAuth(sec, log)}, *httpAddr, log)
		if err != nil {
			_ = n.Close()
			return err
		}
		closers = []io.Closer{dash, n} // the dashboard before the coordinator it reads from
	}
	return serveUntilSignal(closeAll(closers), n.Registry, *metricsListen, log)
}

func runAgent(args []string, _ io.Writer) error {
	var cfg agent.Config
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	coords := fs.String("coordinator", "127.0.0.1:7000", "comma-separated coordinator addresses")
	fs.StringVar(&cfg.ID, "id", "", "agent id (default: host name)")
	fs.IntVar(&cfg.Slots, "slots", 2, "tasks run at once")
	fs.StringVar(&cfg.WorkDir, "work-dir", "./.vodfleet-agent", "scratch directory for sources and outputs")
	fs.StringVar(&cfg.FFmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary")
	fs.StringVar(&cfg.FFprobe, "ffprobe", "ffprobe", "ffprobe binary")
	fs.StringVar(&cfg.StorageAddress, "storage", "", "storage gRPC address (default: what the coordinator says)")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", 5*time.Minute, "on SIGTERM, how long running tasks may finish before they are handed back")
	fs.DurationVar(&cfg.ReconnectMax, "reconnect-max", 5*time.Second, "longest wait between reconnect attempts")
	var labels labelFlag
	fs.Var(&labels, "label", "capability label KEY=VALUE announced to the scheduler (repeatable), e.g. gpu=nvidia")
	hwaccel := fs.String("hwaccel", "", "hardware encode path for H.264/HEVC: nvenc, vaapi or qsv (test-encoded at start; the agent refuses to start if it fails); empty: software only")
	fs.BoolVar(&cfg.AllowPrivateSources, "allow-private-sources", false,
		"let URL sources connect to loopback, private or link-local addresses (only for single-host setups)")
	agentCIDRs := fs.String("allowed-source-cidrs", "", "comma-separated non-public networks URL sources may connect to, e.g. 10.1.0.0/16")
	fs.Int64Var(&cfg.MaxSourceBytes, "max-source-bytes", 0, "stop source downloads past this many bytes (0: no limit)")
	fs.DurationVar(&cfg.TaskTimeout, "task-timeout", 0, "time limit of one task attempt (0: max(10m, 20 x source duration))")
	fs.DurationVar(&cfg.StallTimeout, "stall-timeout", agent.DefaultStallTimeout, "kill an ffmpeg (or abandon a source download) that made no progress for this long; the task is retried on another agent")
	sourceCredentialFlags(fs, &cfg)
	agentDests := destinationFlags(fs, &cfg)
	metricsListen := fs.String("metrics-listen", "", "address serving Prometheus metrics at /metrics, e.g. 127.0.0.1:7092 (empty: off)")
	var sf secFlags
	sf.register(fs, secClient)
	level, json := logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.AllowedSourceCIDRs = splitList(*agentCIDRs)
	agentDests()
	cfg.Coordinators = splitList(*coords)
	cfg.Labels = labels.m
	hw, err := ffmpeg.ParseHWAccel(*hwaccel)
	if err != nil {
		return err
	}
	cfg.HWAccel = hw
	// The dry run of `config check` validates everything but the transport
	// security, whose files are loaded (and checked) at start.
	dry := cfg.WithDefaults()
	dry.DialOptions = []grpc.DialOption{grpc.EmptyDialOption{}}
	if err := checkpoint(args, dry.Validate); err != nil {
		return err
	}
	log := newLogger(*level, *json)
	sec, err := sf.build(false, log)
	if err != nil {
		return err
	}
	if sec.Insecure() {
		log.Warn("plaintext gRPC to coordinators and storage (--insecure)")
	}
	cfg.DialOptions = sec.DialOptions()
	n, err := node.StartAgent(cfg, log)
	if err != nil {
		return err
	}
	return serveUntilSignal(n, n.Registry, *metricsListen, log)
}

// unschedulableFlag adds --unschedulable-after (coordinator and dev).
func unschedulableFlag(fs *flag.FlagSet, cfg *coordinator.Config) {
	def := cfg.UnschedulableAfter
	if def == 0 {
		def = coordinator.DefaultConfig().UnschedulableAfter
	}
	fs.DurationVar(&cfg.UnschedulableAfter, "unschedulable-after", def,
		"fail a job when one of its tasks has waited this long with no connected agent having the labels it needs (codec, encoder, --require); the reason shows in the job's error meanwhile")
}

// limitFlags adds the source limit flags of the coordinator (and dev).
func limitFlags(fs *flag.FlagSet, cfg *coordinator.Config) {
	fs.DurationVar(&cfg.MaxSourceDuration, "max-source-duration", cfg.MaxSourceDuration, "fail jobs whose source runs longer (0: no limit)")
	fs.Int64Var(&cfg.MaxSourceBytes, "max-source-bytes", cfg.MaxSourceBytes, "fail jobs whose source has more bytes (0: no limit)")
	fs.IntVar(&cfg.MaxSourceWidth, "max-source-width", cfg.MaxSourceWidth, "fail jobs whose source picture is wider (0: no limit; with both limits set, a picture may fit them turned 90°)")
	fs.IntVar(&cfg.MaxSourceHeight, "max-source-height", cfg.MaxSourceHeight, "fail jobs whose source picture is taller (0: no limit)")
}

func runStorage(args []string, _ io.Writer) error {
	cfg := storage.DefaultConfig()
	fs := flag.NewFlagSet("storage", flag.ContinueOnError)
	fs.StringVar(&cfg.Dir, "data", "./.vodfleet-storage", "data directory (Badger index and blobs)")
	fs.StringVar(&cfg.NodeID, "node-id", cfg.NodeID, "this storage node's id, recorded with every asset it holds")
	fs.DurationVar(&cfg.StagingMaxAge, "staging-max-age", cfg.StagingMaxAge, "unpublished task outputs older than this are deleted")
	grpcAddr := fs.String("grpc", "127.0.0.1:7001", "gRPC listen address")
	httpAddr := fs.String("http", "127.0.0.1:7002", "HTTP origin listen address")
	httpTLS := fs.Bool("http-tls", false, "serve the HTTP origin over TLS, requiring a client certificate (edge, admin, coordinator or agent role) from --tls-ca")
	var sf secFlags
	sf.register(fs, secServer)
	level, json := logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkpoint(args, cfg.Validate); err != nil {
		return err
	}
	log := newLogger(*level, *json)
	sec, err := sf.build(true, log)
	if err != nil {
		return err
	}
	var originTLS *tls.Config
	if *httpTLS {
		if originTLS = sec.OriginServerTLS(); originTLS == nil {
			return errors.New("--http-tls needs --tls-cert, --tls-key and --tls-ca")
		}
	} else {
		log.Info("storage HTTP origin is plaintext (no --http-tls): keep it on a private network")
	}
	n, err := node.StartStorage(cfg, sec, *grpcAddr, *httpAddr, originTLS, log)
	if err != nil {
		return err
	}
	waitForSignal()
	return n.Close()
}

func runEdge(args []string, _ io.Writer) error {
	cfg := edge.DefaultConfig()
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	origin := fs.String("storage", "http://127.0.0.1:7002", "storage HTTP origin (URL or host:port), or id=URL,... for several storage nodes")
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP listen address")
	fs.Int64Var(&cfg.MemoryBytes, "memory", cfg.MemoryBytes, "memory cache budget in bytes")
	fs.StringVar(&cfg.DiskDir, "disk-dir", "", "directory for the disk cache tier (the edge uses and empties its own vodfleet-edge-cache subdirectory)")
	fs.Int64Var(&cfg.DiskBytes, "disk-bytes", 0, "disk cache budget in bytes (0: no disk tier)")
	fs.DurationVar(&cfg.OriginConnectTimeout, "origin-connect-timeout", cfg.OriginConnectTimeout, "give up connecting to storage after this")
	fs.StringVar(&cfg.DashboardURL, "dashboard", "", "coordinator dashboard URL (its --http) to proxy read-only under /dashboard/")
	keyFile := fs.String("signing-key-file", "", "file with the URL signing key; when set, only signed URLs (/t/TOKEN/v/...) are served")
	var sf secFlags
	sf.register(fs, secTLSOnly)
	level, json := logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	origins, err := edge.ParseOrigins(*origin)
	if err != nil {
		return fmt.Errorf("--storage: %w", err)
	}
	if len(origins) == 1 && origins[0].ID == "" {
		cfg.Origin = origins[0].URL
	} else {
		cfg.Origins = origins
	}
	if err := checkpoint(args, cfg.Validate); err != nil {
		return err
	}
	log := newLogger(*level, *json)
	sec, err := sf.build(false, log)
	if err != nil {
		return err
	}
	cfg.OriginTLS = sec.ClientTLS()
	if *keyFile != "" {
		key, err := readKey(*keyFile)
		if err != nil {
			return err
		}
		cfg.SigningKey = key
	}
	n, err := node.StartEdge(cfg, *listen, log)
	if err != nil {
		return err
	}
	waitForSignal()
	return n.Close()
}

// serveUntilSignal serves g's metrics on addr (unless empty) until SIGINT
// or SIGTERM, then closes the metrics server and n.
func serveUntilSignal(n io.Closer, g prometheus.Gatherer, addr string, log hclog.Logger) error {
	var m *node.MetricsServer
	if addr != "" {
		var err error
		if m, err = node.ServeMetrics(addr, g, log); err != nil {
			_ = n.Close()
			return fmt.Errorf("--metrics-listen: %w", err)
		}
	}
	waitForSignal()
	if m != nil {
		_ = m.Close()
	}
	return n.Close()
}

// closeAll closes several parts of a role in order as one io.Closer,
// returning the first error.
type closeAll []io.Closer

// Close closes every part, in order.
func (cs closeAll) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
