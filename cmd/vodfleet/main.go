// Command vodfleet is every vodfleet role and the client CLI in one binary.
// main only parses flags and wires packages; the logic lives in them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"dev", "run a whole cluster in one process (embedded etcd)", runDev},
		{"coordinator", "run a coordinator against an etcd cluster", runCoordinator},
		{"agent", "run an agent that executes encode tasks", runAgent},
		{"storage", "run a storage node", runStorage},
		{"edge", "run an HTTP edge in front of storage", runEdge},
		{"submit", "submit a job: vodfleet submit [--wait] [--json] [--webhook URL] [--ladder NAME] [--dest URL|NAME] SOURCE", runSubmit},
		{"jobs", "list jobs", runJobs},
		{"status", "show one job, its tasks and its webhook deliveries", runStatus},
		{"watch", "follow a job with progress bars until it ends: vodfleet watch JOB", runWatch},
		{"cancel", "cancel a job", runCancel},
		{"retry", "requeue a failed or cancelled job", runRetry},
		{"cluster", "show leader, followers, queue, jobs and agents at a glance", runCluster},
		{"assets", "list asset records: --tag, --meta K=V, --state, --search, --limit, --page-token, --json; --on-storage lists what storage nodes hold", runAssets},
		{"asset", "show or edit an asset's catalog record: asset show ASSET, asset set ASSET --title ...", runAsset},
		{"catalog", "alias of assets (the asset record listing)", runCatalog},
		{"preset", "stored encoding presets: preset list|show NAME|set FILE|delete NAME", runPreset},
		{"transfer", "push an existing asset to destinations again: vodfleet transfer ASSET --dest URL|NAME", runTransfer},
		{"reencode", "add or re-encode renditions of a published asset, republishing its manifests atomically: vodfleet reencode ASSET --add 720p|WxH@KBPS[,codec=av1] [--replace NAME]", runReencode},
		{"dest", "named destinations: dest list|add NAME URL|delete NAME", runDest},
		{"delete", "delete an asset: its files on the storage nodes and its catalog record", runDelete},
		{"sign", "print a signed playback URL for an asset", runSign},
		{"config", "config file tools: vodfleet config check FILE..., vodfleet config example", runConfig},
		{"token", "create an API token: vodfleet token new --role R --name N", runToken},
	}
}

// exitError carries a specific exit status (e.g. a job that failed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status. Results go
// to stdout; errors, progress and logs to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout)
		var ee exitError
		var fe fileErrors
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 2
		case errors.As(err, &ee):
			return ee.code
		case errors.As(err, &fe):
			fmt.Fprintln(stderr, fe)
			return 1
		default:
			fmt.Fprintf(stderr, "vodfleet %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "vodfleet: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vodfleet COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'vodfleet COMMAND -h' for a command's flags.")
}

// newLogger returns the root logger every component gets a Named child of.
func newLogger(level string, json bool) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "vodfleet",
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
		Output:     os.Stderr,
	})
}

// logFlags adds --log-level and --log-json to fs.
func logFlags(fs *flag.FlagSet) (level *string, json *bool) {
	return fs.String("log-level", "info", "log level: trace, debug, info, warn, error"),
		fs.Bool("log-json", false, "log as JSON lines")
}

// envOr returns the environment variable or def. Flags need not use it:
// parseFlags reads VODFLEET_<SECTION>_<FLAG> for every flag (and the
// older names in legacyEnv) with the right precedence (over the config
// file); a default taken from envOr ranks below the file.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
