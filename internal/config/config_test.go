package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// labels is a repeatable flag like the agent's --label.
type labels []string

func (l *labels) String() string { return strings.Join(*l, ",") }
func (l *labels) Set(v string) error {
	if !strings.Contains(v, "=") {
		return errors.New("want KEY=VALUE")
	}
	*l = append(*l, v)
	return nil
}

type testFlags struct {
	fs               *flag.FlagSet
	listen, etcd     *string
	lease, ttl, idle *time.Duration
	attempts         *int
	json             *bool
	labels           labels
}

func newTestFlags() *testFlags {
	t := &testFlags{fs: flag.NewFlagSet("coordinator", flag.ContinueOnError)}
	t.listen = t.fs.String("listen", "127.0.0.1:7000", "listen address")
	t.etcd = t.fs.String("etcd", "http://127.0.0.1:2379", "etcd endpoints")
	t.lease = t.fs.Duration("lease", 30*time.Second, "lease")
	t.ttl = t.fs.Duration("session-ttl", 5*time.Second, "ttl")
	t.idle = t.fs.Duration("idle", time.Minute, "idle")
	t.attempts = t.fs.Int("max-attempts", 3, "attempts")
	t.json = t.fs.Bool("log-json", false, "json")
	t.fs.Var(&t.labels, "label", "labels")
	t.fs.String("config", "", "config file")
	return t
}

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("vf.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestApplyPrecedenceFlagEnvFileDefault(t *testing.T) {
	f := mustParse(t, `
coordinator:
  listen: 10.0.0.1:7000
  lease: 45s
  session-ttl: 9s
  etcd: [http://e1:2379, http://e2:2379]
  log-json: true
  label: {gpu: nvidia}
`)
	tf := newTestFlags()
	if err := tf.fs.Parse([]string{"--listen", "10.0.0.9:7000"}); err != nil {
		t.Fatal(err)
	}
	err := Apply(tf.fs, Options{Section: "coordinator", File: f,
		LookupEnv: env(map[string]string{
			"VODFLEET_COORDINATOR_LISTEN":       "10.0.0.5:7000", // loses to the flag
			"VODFLEET_COORDINATOR_LEASE":        "1m",            // beats the file
			"VODFLEET_COORDINATOR_MAX_ATTEMPTS": "7",             // beats the default
			"VODFLEET_ETCD":                     "http://old:2379",
		}),
		Aliases: map[string]string{"etcd": "VODFLEET_ETCD", "session-ttl": "VODFLEET_TTL"}})
	if err != nil {
		t.Fatal(err)
	}
	if *tf.listen != "10.0.0.9:7000" {
		t.Errorf("listen = %s, want the flag's", *tf.listen)
	}
	if *tf.lease != time.Minute {
		t.Errorf("lease = %s, want the environment's 1m", *tf.lease)
	}
	if *tf.attempts != 7 {
		t.Errorf("max-attempts = %d, want 7 from the environment", *tf.attempts)
	}
	if *tf.etcd != "http://old:2379" {
		t.Errorf("etcd = %s, want the alias variable's (it ranks with the environment)", *tf.etcd)
	}
	if *tf.ttl != 9*time.Second || !*tf.json {
		t.Errorf("session-ttl = %s log-json = %v, want the file's 9s and true", *tf.ttl, *tf.json)
	}
	if *tf.idle != time.Minute {
		t.Errorf("idle = %s, want the default", *tf.idle)
	}
	if strings.Join(tf.labels, ";") != "gpu=nvidia" {
		t.Errorf("labels = %v", tf.labels)
	}
}

func TestApplyRoleEnvBeatsAlias(t *testing.T) {
	tf := newTestFlags()
	_ = tf.fs.Parse(nil)
	err := Apply(tf.fs, Options{Section: "coordinator", Aliases: map[string]string{"etcd": "VODFLEET_ETCD"},
		LookupEnv: env(map[string]string{"VODFLEET_ETCD": "http://old:2379", "VODFLEET_COORDINATOR_ETCD": "http://new:2379"})})
	if err != nil || *tf.etcd != "http://new:2379" {
		t.Fatalf("etcd = %s (%v), want VODFLEET_COORDINATOR_ETCD's", *tf.etcd, err)
	}
}

func TestApplyReportsEveryProblemWithPosition(t *testing.T) {
	f := mustParse(t, `coordinator:
  lease: 30
  leese: 5s
  max-attempts: three
  log-json: yes
  config: other.yaml
  session-ttl: 2s
`)
	tf := newTestFlags()
	_ = tf.fs.Parse(nil)
	err := Apply(tf.fs, Options{Section: "coordinator", File: f, Skip: map[string]bool{"config": true},
		LookupEnv: env(map[string]string{"VODFLEET_COORDINATOR_IDLE": "soon"})})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Apply = %v, want Errors", err)
	}
	want := []string{
		`VODFLEET_COORDINATOR_IDLE: coordinator.idle: invalid value "soon": parse error (want a duration such as 30s, 5m or 1h30m)`,
		`vf.yaml:2:10: coordinator.lease: invalid value "30": parse error (want a duration such as 30s, 5m or 1h30m)`,
		`vf.yaml:3:3: coordinator.leese: unknown key (coordinator has no --leese flag; did you mean lease?)`,
		`vf.yaml:4:17: coordinator.max-attempts: invalid value "three": parse error (want an integer)`,
		`vf.yaml:5:13: coordinator.log-json: invalid value "yes": parse error (want true or false)`,
		`vf.yaml:6:3: coordinator.config: cannot be set in the config file`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrNotSettable) {
		t.Error("sentinels not reachable with errors.Is")
	}
	if *tf.ttl != 2*time.Second {
		t.Errorf("valid keys after bad ones are still applied: session-ttl = %s", *tf.ttl)
	}
}

func TestParseStructuralErrors(t *testing.T) {
	_, err := Parse("s.yaml", []byte(`coordinator:
  lease: 30s
  lease: 40s
  etcd:
  listen: {a: {b: c}}
agent: [x]
coordinator: {}
`))
	want := []string{
		"s.yaml:3:3: coordinator.lease: duplicate key (first at line 2)",
		`s.yaml:4:8: coordinator.etcd: no value (write "" for an empty string)`,
		"s.yaml:5:15: coordinator.listen: mapping values must be plain values",
		"s.yaml:6:8: agent: a section must be a mapping of flag names to values",
		"s.yaml:7:1: coordinator: duplicate section (first at line 1)",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Parse error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if _, err := Parse("s.yaml", []byte("- a\n- b\n")); err == nil || !strings.HasPrefix(err.Error(), "s.yaml:1:1: the file must be a mapping") {
		t.Errorf("a list file: %v", err)
	}
	if _, err := Parse("s.yaml", []byte("a: [b\n")); err == nil || !strings.HasPrefix(err.Error(), "s.yaml: yaml: line") {
		t.Errorf("a syntax error: %v", err)
	}
	if f, err := Parse("s.yaml", []byte("# only comments\n")); err != nil || len(f.Sections) != 0 {
		t.Errorf("an empty file: %v %v", f, err)
	}
}

func TestSetEntryLists(t *testing.T) {
	f := mustParse(t, `coordinator:
  label: [a=1, b=2]
  max-attempts: [1, 2]
  etcd: [http://e1:2379, http://e2:2379]
  lease: &d 20s
  session-ttl: *d
`)
	tf := newTestFlags()
	_ = tf.fs.Parse(nil)
	err := Apply(tf.fs, Options{Section: "coordinator", File: f})
	if err == nil || err.Error() != "vf.yaml:3:17: coordinator.max-attempts: takes one value, not a list" {
		t.Errorf("list on an int flag: %v", err)
	}
	if strings.Join(tf.labels, ";") != "a=1;b=2" {
		t.Errorf("repeatable flag got %v, want each item set", tf.labels)
	}
	if *tf.etcd != "http://e1:2379,http://e2:2379" {
		t.Errorf("string flag got %q, want the items joined with commas", *tf.etcd)
	}
	if *tf.lease != 20*time.Second || *tf.ttl != 20*time.Second {
		t.Errorf("anchors and aliases: lease %s ttl %s", *tf.lease, *tf.ttl)
	}
}

func TestCheckSharedSection(t *testing.T) {
	a := flag.NewFlagSet("submit", flag.ContinueOnError)
	a.String("coordinator", "", "")
	a.String("ladder", "", "")
	b := flag.NewFlagSet("jobs", flag.ContinueOnError)
	b.String("coordinator", "", "")
	b.Int("limit", 100, "")
	f := mustParse(t, "client:\n  ladder: mobile\n  limit: lots\n  ladde: x\n")
	errs := Check(f.Path, f.Section("client"), []*flag.FlagSet{a, b}, nil)
	want := `vf.yaml:3:10: client.limit: invalid value "lots": parse error (want an integer)
vf.yaml:4:3: client.ladde: unknown key (client has no --ladde flag; did you mean ladder?)`
	if errs.Error() != want {
		t.Errorf("Check:\n%s\nwant:\n%s", errs, want)
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("coordinator", "max-source-bytes"); got != "VODFLEET_COORDINATOR_MAX_SOURCE_BYTES" {
		t.Errorf("EnvName = %s", got)
	}
}

func TestWriteExampleRoundTrips(t *testing.T) {
	tf := newTestFlags()
	var b strings.Builder
	if err := WriteExample(&b, "header", []ExampleSection{{Name: "coordinator", Comment: "the coordinator", Sets: []*flag.FlagSet{tf.fs}}}, map[string]bool{"config": true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"# header\n", "# the coordinator\ncoordinator:\n", "  # lease\n  lease: 30s\n", `  etcd: "http://127.0.0.1:2379"`, "  # label: (no default"} {
		if !strings.Contains(out, want) {
			t.Errorf("example lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "config:") {
		t.Error("example names a skipped flag")
	}
	f := mustParse(t, out)
	fresh := newTestFlags()
	if errs := Check(f.Path, f.Section("coordinator"), []*flag.FlagSet{fresh.fs}, nil); len(errs) > 0 {
		t.Errorf("the example does not check: %v", errs)
	}
}

func TestApplyEmptyEnvIsUnset(t *testing.T) {
	tf := newTestFlags()
	_ = tf.fs.Parse(nil)
	f := mustParse(t, "coordinator:\n  lease: 40s\n")
	err := Apply(tf.fs, Options{Section: "coordinator", File: f, LookupEnv: env(map[string]string{"VODFLEET_COORDINATOR_LEASE": ""})})
	if err != nil || *tf.lease != 40*time.Second {
		t.Errorf("lease = %s (%v), want the file's 40s under an empty variable", *tf.lease, err)
	}
}
