package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/cluster"
	"github.com/vodfleet/vodfleet/internal/config"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigExampleIsCurrent fails when docs/config.example.yaml no
// longer matches the flags; regenerate it with
// `go run ./cmd/vodfleet config example > docs/config.example.yaml`.
func TestConfigExampleIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := writeExample(&b); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../docs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), committed) {
		t.Fatal("docs/config.example.yaml is stale: run `go run ./cmd/vodfleet config example > docs/config.example.yaml`")
	}
	for _, want := range []string{"\ncoordinator:\n", "\nagent:\n", "\nstorage:\n", "\nedge:\n", "\ndev:\n", "\nclient:\n", "  log-json: false\n", "  lease: 30s\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("example lacks %q", want)
		}
	}
	if errs := checkFile("../../docs/config.example.yaml"); len(errs) > 0 {
		t.Errorf("the example does not pass config check:\n%v", errs)
	}
}

// TestRoleFlagPrecedence applies a file and the environment to the real
// agent flag set: flag > VODFLEET_AGENT_* > legacy variable > file > default.
func TestRoleFlagPrecedence(t *testing.T) {
	path := writeFile(t, "vf.yaml", `agent:
  slots: 6
  drain-timeout: 2m
  reconnect-max: 9s
  id: from-file
  coordinator: [c1:7000, c2:7000]
  label: {gpu: nvidia}
  log-json: true
`)
	f, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := flagSetOf("agent")
	if err := fs.Parse([]string{"--slots", "4"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"VODFLEET_AGENT_SLOTS":         "5",   // the flag wins
		"VODFLEET_AGENT_DRAIN_TIMEOUT": "90s", // beats the file
		"VODFLEET_COORDINATOR":         "legacy:7000",
	}
	if err := applyConfig(fs, f, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"slots":         "4",
		"drain-timeout": "1m30s",
		"coordinator":   "legacy:7000", // VODFLEET_COORDINATOR still ranks with the environment
		"reconnect-max": "9s",
		"id":            "from-file",
		"label":         "map[gpu:nvidia]",
		"log-json":      "true",
		"work-dir":      "./.vodfleet-agent", // default
	} {
		if got := fs.Lookup(name).Value.String(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestConfigCheckReportsFileLineAndField(t *testing.T) {
	path := writeFile(t, "bad.yaml", `coordinator:
  etcd: [http://e1:2379, http://e2:2379]
  lease: 30
  sesion-ttl: 5s
agent:
  slots: many
  drain-timeout: 5 minutes
  log-json: maybe
edgee:
  listen: x
storage:
  config: other.yaml
client:
  ladder: mobile
  limit: lots
  bogus: 1
edge:
  storage: "s1=http://a:7002,http://b:7002"
dev:
  agents: 100
`)
	want := []string{
		path + `:3:10: coordinator.lease: invalid value "30": parse error (want a duration such as 30s, 5m or 1h30m)`,
		path + `:4:3: coordinator.sesion-ttl: unknown key (coordinator has no --sesion-ttl flag; did you mean session-ttl?)`,
		path + `:6:10: agent.slots: invalid value "many": parse error (want an integer)`,
		path + `:7:18: agent.drain-timeout: invalid value "5 minutes": parse error (want a duration such as 30s, 5m or 1h30m)`,
		path + `:8:13: agent.log-json: invalid value "maybe": parse error (want true or false)`,
		path + `:9:1: edgee: unknown section (sections are dev, coordinator, agent, storage, edge, client); did you mean edge?`,
		path + `:12:3: storage.config: cannot be set in the config file`,
		path + `:15:10: client.limit: invalid value "lots": parse error (want an integer)`,
		path + `:16:3: client.bogus: unknown key (client has no --bogus flag)`,
		path + `:17:1: edge: `, // the edge's own check of --storage, after the flags
		path + `:19:1: dev: agents 100 outside 0..64`,
	}
	errs := checkFile(path)
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) || strings.HasSuffix(want[i], ": ") && len(e.Error()) == len(want[i]) {
			t.Errorf("error %d:\n got %s\nwant %s", i, e, want[i])
		}
	}
	var out bytes.Buffer
	if code := run([]string{"config", "check", path}, &out, &out); code != 1 {
		t.Errorf("config check of a bad file: exit %d, want 1", code)
	}
	good := writeFile(t, "good.yaml", "coordinator:\n  lease: 45s\n  max-attempts: 5\ndev:\n  agents: 1\nclient:\n  coordinator: c1:7000\n  ladder: mobile\n")
	out.Reset()
	if code := run([]string{"config", "check", good}, &out, &out); code != 0 || out.String() != good+": ok\n" {
		t.Errorf("config check of a good file: exit %d, %q", code, out.String())
	}
	t.Setenv("VODFLEET_CONFIG", good)
	out.Reset()
	if code := run([]string{"config", "check"}, &out, &out); code != 0 || out.String() != good+": ok\n" {
		t.Errorf("config check of $VODFLEET_CONFIG: exit %d, %q", code, out.String())
	}
	// Validate runs on the role's real config: a value each flag accepts
	// but the coordinator refuses.
	limits := writeFile(t, "limits.yaml", "coordinator:\n  max-attempts: 1000\n")
	if errs := checkFile(limits); len(errs) != 1 || errs[0].Error() != limits+":1:1: coordinator: max attempts 1000 is outside 1..100" {
		t.Errorf("Validate through config check: %v", errs)
	}
}

// TestBinaryConfig runs the built binary: config check messages and exit
// status, a role refusing a bad file at start, and a storage node taking
// its settings from file, environment and flags (in that rising order).
func TestBinaryConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := cluster.Binary(t)
	bad := writeFile(t, "bad.yaml", "coordinator:\n  lease: 30\n  etcd: http://e1:2379\nagent:\n  slotz: 2\n")
	cmd := exec.Command(bin, "config", "check", bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("config check: %v, want exit status 1", err)
	}
	wantCheck := bad + `:2:10: coordinator.lease: invalid value "30": parse error (want a duration such as 30s, 5m or 1h30m)
` + bad + `:5:3: agent.slotz: unknown key (agent has no --slotz flag; did you mean slots?)
`
	if stderr.String() != wantCheck {
		t.Errorf("config check stderr:\n%s\nwant:\n%s", stderr.String(), wantCheck)
	}

	// A role refuses to start with a bad file, naming file, line and key.
	cmd = exec.Command(bin, "coordinator", "--config", bad)
	stderr.Reset()
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("coordinator with a bad file: %v, want exit status 1", err)
	}
	if want := "vodfleet coordinator: " + bad + `:2:10: coordinator.lease: invalid value "30"`; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("coordinator stderr %q, want prefix %q", stderr.String(), want)
	}
	cmd = exec.Command(bin, "coordinator")
	cmd.Env = append(os.Environ(), "VODFLEET_COORDINATOR_LEASE=soon")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), `VODFLEET_COORDINATOR_LEASE: coordinator.lease: invalid value "soon"`) {
		t.Errorf("a bad environment value: %v %q", err, stderr.String())
	}

	// storage: grpc from the flag (over env and file), http from the
	// environment (over the file), data dir and JSON logs from the file
	// named by VODFLEET_CONFIG.
	data := t.TempDir()
	grpcFlag, grpcEnv, httpEnv := cluster.FreeAddr(t), cluster.FreeAddr(t), cluster.FreeAddr(t)
	good := writeFile(t, "storage.yaml", "storage:\n  data: "+data+"\n  grpc: 127.0.0.1:1\n  http: 127.0.0.1:1\n  log-json: true\n  node-id: s9\n  insecure: true\n")
	cmd = exec.Command(bin, "storage", "--grpc", grpcFlag)
	cmd.Env = append(os.Environ(), "VODFLEET_CONFIG="+good, "VODFLEET_STORAGE_GRPC="+grpcEnv, "VODFLEET_STORAGE_HTTP="+httpEnv)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Kill: the signal handler is installed only after the
		// listening line is logged, so SIGTERM could race it.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(pipe)
	var line map[string]any
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "storage listening") {
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("log-json from the file: the log line is not JSON: %s", sc.Text())
			}
			break
		}
	}
	if line == nil {
		t.Fatalf("storage never logged its addresses:\n%s", strings.Join(seen, "\n"))
	}
	if line["grpc"] != grpcFlag || line["http"] != "http://"+httpEnv || line["dir"] != data {
		t.Errorf("storage bound grpc=%v http=%v dir=%v, want %s (flag), http://%s (env), %s (file)",
			line["grpc"], line["http"], line["dir"], grpcFlag, httpEnv, data)
	}
}

// TestDeploymentGuideConfigs runs config check on every config file of
// docs/deployment.md (the yaml blocks that start with "# /etc/vodfleet/").
func TestDeploymentGuideConfigs(t *testing.T) {
	guide, err := os.ReadFile("../../docs/deployment.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(guide), "```yaml\n")
	n := 0
	for _, b := range blocks[1:] {
		body, _, ok := strings.Cut(b, "```")
		if !ok || !strings.HasPrefix(body, "# /etc/vodfleet/") {
			continue
		}
		n++
		path := writeFile(t, "guide.yaml", body)
		if errs := checkFile(path); len(errs) > 0 {
			t.Errorf("config block %d of docs/deployment.md:\n%v", n, errs)
		}
	}
	if n == 0 {
		t.Fatal("no config block found in docs/deployment.md")
	}
}

// TestClientSection: a client command takes the keys it has from the
// shared client section, ignores other client commands' keys, and
// refuses keys no client command has.
func TestClientSection(t *testing.T) {
	path := writeFile(t, "client.yaml", "client:\n  coordinator: 127.0.0.1:1\n  timeout: 5s\n  ladder: mobile\n  insecure: true\n")
	var out, errb bytes.Buffer
	if code := run([]string{"jobs", "--config", path}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "127.0.0.1:1") {
		t.Errorf("jobs with the client section: exit %d, stderr %q; want a dial error naming the file's coordinator", code, errb.String())
	}
	bad := writeFile(t, "client.yaml", "client:\n  coordinator: 127.0.0.1:1\n  ladderr: mobile\n")
	errb.Reset()
	want := "vodfleet jobs: " + bad + ":3:3: client.ladderr: unknown key"
	if code := run([]string{"jobs", "--config", bad}, &out, &errb); code != 1 || !strings.HasPrefix(errb.String(), want) {
		t.Errorf("jobs with an unknown client key: exit %d, stderr %q, want prefix %q", code, errb.String(), want)
	}
}
