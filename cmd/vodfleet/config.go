package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/vodfleet/vodfleet/internal/config"
)

// serverRoles are the commands with a config section of their own. Every
// other command that parses its flags with parseFlags is a client command
// and reads the shared "client" section.
var serverRoles = []string{"dev", "coordinator", "agent", "storage", "edge"}

// clientSection is the section every client command reads.
const clientSection = "client"

// envConfig names the config file when --config is not given.
const envConfig = "VODFLEET_CONFIG"

// notFromConfig are flags only the command line sets.
var notFromConfig = map[string]bool{"config": true}

// legacyEnv are the environment variables vodfleet read before the
// config file existed, per section and flag; they rank with
// VODFLEET_<SECTION>_<FLAG> (which wins when both are set).
var legacyEnv = map[string]map[string]string{
	"*":           {"log-level": "VODFLEET_LOG_LEVEL"},
	"coordinator": {"etcd": "VODFLEET_ETCD", "storage": "VODFLEET_STORAGE"},
	"agent":       {"coordinator": "VODFLEET_COORDINATOR"},
	"edge":        {"signing-key-file": "VODFLEET_SIGNING_KEY_FILE"},
	clientSection: {"coordinator": "VODFLEET_COORDINATOR", "storage": "VODFLEET_STORAGE",
		"key-file": "VODFLEET_SIGNING_KEY_FILE", "edge": "VODFLEET_EDGE"},
}

// sectionOf is the config section of a command.
func sectionOf(command string) string {
	if slices.Contains(serverRoles, command) {
		return command
	}
	return clientSection
}

// positionalArgs returns the arguments left after parseFlags, parsing
// flags that follow them too (vodfleet transfer ASSET --dest URL), which
// the flag package stops at.
func positionalArgs(fs *flag.FlagSet) ([]string, error) {
	var pos []string
	for fs.NArg() > 0 {
		pos = append(pos, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	return pos, nil
}

// parseFlags is fs.Parse plus the config layer: it adds --config, parses
// args, then fills every flag the command line left unset from
// VODFLEET_<SECTION>_<FLAG> and then from the config file's section, via
// fs.Set. Every command calls it instead of fs.Parse, after defining its
// flags, so a flag added later is configurable with no extra code.
func parseFlags(fs *flag.FlagSet, args []string) error {
	path := fs.String("config", "", "YAML config file with a section per role, keys are flag names (env "+envConfig+"; see docs/config.example.yaml)")
	if isFlagSetRequest(args) {
		return &flagSetOnly{fs}
	}
	if dry := dryRunFile(args); dry != nil {
		// vodfleet config check: only the file, no command line, no environment.
		return applyConfig(fs, dry, nil)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		*path = os.Getenv(envConfig)
	}
	var file *config.File
	if *path != "" {
		f, err := config.Load(*path)
		if err != nil {
			return err
		}
		if errs := unknownSections(f); len(errs) > 0 {
			return errs
		}
		file = f
	}
	return applyConfig(fs, file, os.LookupEnv)
}

// applyConfig applies the environment and file to the command's flags.
func applyConfig(fs *flag.FlagSet, file *config.File, lookupEnv func(string) (string, bool)) error {
	section := sectionOf(fs.Name())
	aliases := map[string]string{}
	for _, m := range []map[string]string{legacyEnv["*"], legacyEnv[section]} {
		for k, v := range m {
			aliases[k] = v
		}
	}
	o := config.Options{Section: section, File: file, LookupEnv: lookupEnv, Aliases: aliases, Skip: notFromConfig}
	if section == clientSection && file.Section(clientSection) != nil {
		// The client section holds the keys of every client command.
		known := map[string]bool{}
		for _, cfs := range clientFlagSets() {
			cfs.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
		}
		o.Known = func(key string) bool { return known[key] }
	}
	return config.Apply(fs, o)
}

// sections are the valid top-level keys of a config file.
func sections() []string { return append(slices.Clone(serverRoles), clientSection) }

// errUnknownSection is a top-level key that names no role.
var errUnknownSection = errors.New("unknown section")

// unknownSections reports the sections that name no role.
func unknownSections(f *config.File) config.Errors {
	var errs config.Errors
	for _, s := range f.Sections {
		if !slices.Contains(sections(), s.Name) {
			err := fmt.Errorf("%w (sections are %s)", errUnknownSection, strings.Join(sections(), ", "))
			if near := config.Closest(s.Name, sections()); near != "" {
				err = fmt.Errorf("%w; did you mean %s?", err, near)
			}
			errs = append(errs, &config.Error{Path: f.Path, Pos: s.Pos, Section: s.Name, Err: err})
		}
	}
	return errs
}

// flagSetRequestArgs, passed as a command's args, makes parseFlags stop
// right after the flags are defined and hand the flag set back (compared
// by identity, so no command line can pass it). This is how config check
// and config example see every flag of every command without the flag
// definitions moving out of the commands.
var flagSetRequestArgs = []string{"-\x00vodfleet-flag-set"}

func isFlagSetRequest(args []string) bool {
	return len(args) == 1 && &args[0] == &flagSetRequestArgs[0]
}

// flagSetOnly is the "error" carrying the flag set back.
type flagSetOnly struct{ fs *flag.FlagSet }

func (*flagSetOnly) Error() string { return "flag set requested" }

// flagSetOf returns a fresh flag set of the named command, or nil when
// the command does not parse its flags with parseFlags.
func flagSetOf(name string) *flag.FlagSet {
	for _, c := range commands() {
		if c.name != name || c.name == "config" {
			continue
		}
		var fo *flagSetOnly
		if err := c.run(flagSetRequestArgs, io.Discard); errors.As(err, &fo) {
			return fo.fs
		}
	}
	return nil
}

// clientFlagSets are fresh flag sets of every client command.
func clientFlagSets() []*flag.FlagSet {
	var out []*flag.FlagSet
	for _, c := range commands() {
		if c.name == "config" || slices.Contains(serverRoles, c.name) {
			continue
		}
		if fs := flagSetOf(c.name); fs != nil {
			out = append(out, fs)
		}
	}
	return out
}

// dryRun is the state of a dry run by config check: the role applies
// only dryRun.file, builds its config and stops at checkpoint.
var dryRun struct {
	mu   sync.Mutex
	file *config.File
}

// dryRunArgs, passed as a role's args (by identity), starts a dry run.
var dryRunArgs = []string{"-\x00vodfleet-dry-run"}

func dryRunFile(args []string) *config.File {
	if len(args) == 1 && &args[0] == &dryRunArgs[0] {
		return dryRun.file
	}
	return nil
}

// validated is the verdict of a role's Validate in a dry run.
type validated struct{ err error }

func (v *validated) Error() string {
	if v.err == nil {
		return "valid"
	}
	return v.err.Error()
}

// checkpoint is called by a role once its config is built, before it
// starts anything: in a dry run it stops the role with the result of
// validate; otherwise it does nothing (the role validates when it
// starts).
func checkpoint(args []string, validate func() error) error {
	if dryRunFile(args) == nil {
		return nil
	}
	return &validated{validate()}
}

// dryRunRole runs a role up to its checkpoint with the file's section
// and returns its Validate error (or an earlier error of the role's own
// flag handling, e.g. a malformed --storage list).
func dryRunRole(role string, f *config.File) error {
	dryRun.mu.Lock()
	defer dryRun.mu.Unlock()
	dryRun.file = f
	defer func() { dryRun.file = nil }()
	for _, c := range commands() {
		if c.name != role {
			continue
		}
		err := c.run(dryRunArgs, io.Discard)
		var v *validated
		if errors.As(err, &v) {
			return v.err
		}
		if err == nil {
			return errors.New("role has no checkpoint")
		}
		return err
	}
	return nil
}
