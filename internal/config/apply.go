package config

import (
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrUnknownKey is a key that names no flag of the section's role.
var ErrUnknownKey = errors.New("unknown key")

// ErrNotSettable is a key that only the command line may set (--config).
var ErrNotSettable = errors.New("cannot be set in the config file")

// EnvName is the environment variable of a section's flag:
// VODFLEET_<SECTION>_<FLAG>, upper case, dashes as underscores.
func EnvName(section, flagName string) string {
	return "VODFLEET_" + envPart(section) + "_" + envPart(flagName)
}

func envPart(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(s))
}

// Options say where Apply looks besides the command line.
type Options struct {
	// Section is the file section and environment prefix ("coordinator").
	Section string
	// File is the config file; nil when there is none.
	File *File
	// LookupEnv reads the environment (os.LookupEnv); nil reads nothing.
	LookupEnv func(string) (string, bool)
	// Aliases are older environment variable names per flag, read after
	// VODFLEET_<SECTION>_<FLAG> (e.g. "etcd": "VODFLEET_ETCD").
	Aliases map[string]string
	// Skip are flags neither the file nor the environment may set.
	Skip map[string]bool
	// Known reports keys that are valid in the section although fs lacks
	// them (a section shared by several commands); they are ignored here.
	Known func(key string) bool
}

// Apply sets every flag of fs (already parsed) that the command line left
// unset: from VODFLEET_<SECTION>_<FLAG>, then an alias variable, then the
// file's section. An empty variable counts as unset. So the precedence is flag > environment > file >
// default. Values go through fs.Set, so they are validated like flags.
// Every problem is returned, each with its variable or file position.
func Apply(fs *flag.FlagSet, o Options) error {
	fromCLI := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { fromCLI[f.Name] = true })
	fromEnv := map[string]bool{}
	var errs Errors
	if o.LookupEnv != nil {
		fs.VisitAll(func(f *flag.Flag) {
			if fromCLI[f.Name] || o.Skip[f.Name] {
				return
			}
			for _, name := range []string{EnvName(o.Section, f.Name), o.Aliases[f.Name]} {
				if name == "" {
					continue
				}
				if v, ok := o.LookupEnv(name); ok && v != "" { // empty = unset, as before
					fromEnv[f.Name] = true
					if err := fs.Set(f.Name, v); err != nil {
						errs = append(errs, &Error{Env: name, Section: o.Section, Key: f.Name, Err: invalid(f, v, err)})
					}
					return
				}
			}
		})
	}
	if s := o.File.Section(o.Section); s != nil {
		for _, e := range s.Entries {
			if fs.Lookup(e.Key) == nil && o.Known != nil && o.Known(e.Key) {
				continue
			}
			if fromCLI[e.Key] || fromEnv[e.Key] {
				continue
			}
			errs = append(errs, SetEntry(fs, o.File.Path, o.Section, e, o.Skip)...)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// SetEntry applies one file entry to fs. A list (or mapping) is joined
// with commas for a plain string flag (comma-separated lists such as
// --etcd), and set item by item for a repeatable flag (--label); other
// flags take one value.
func SetEntry(fs *flag.FlagSet, path, section string, e Entry, skip map[string]bool) Errors {
	bad := func(p Pos, err error) Errors {
		return Errors{{Path: path, Pos: p, Section: section, Key: e.Key, Err: err}}
	}
	f := fs.Lookup(e.Key)
	if skip[e.Key] {
		return bad(e.Pos, ErrNotSettable)
	}
	if f == nil {
		return bad(e.Pos, unknown(fs, section, e.Key))
	}
	kind, typed := valueKind(f)
	if e.List && typed {
		if _, isString := kind.(string); isString {
			texts := make([]string, len(e.Values))
			for i, v := range e.Values {
				texts[i] = v.Text
			}
			joined := strings.Join(texts, ",")
			if err := fs.Set(e.Key, joined); err != nil {
				return bad(e.ValuePos, invalid(f, joined, err))
			}
			return nil
		}
		if len(e.Values) != 1 {
			return bad(e.ValuePos, errors.New("takes one value, not a list"))
		}
	}
	var errs Errors
	for _, v := range e.Values {
		if err := fs.Set(e.Key, v.Text); err != nil {
			errs = append(errs, bad(v.Pos, invalid(f, v.Text, err))...)
		}
	}
	return errs
}

// valueKind returns the flag's typed value when its Value is a
// flag.Getter (the standard flag types are).
func valueKind(f *flag.Flag) (any, bool) {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return nil, false
	}
	return g.Get(), true
}

// invalid explains a value fs.Set refused, with what the flag wants
// (the flag package says only "parse error" for numbers and durations).
func invalid(f *flag.Flag, v string, err error) error {
	want := ""
	if k, ok := valueKind(f); ok {
		switch k.(type) {
		case time.Duration:
			want = " (want a duration such as 30s, 5m or 1h30m)"
		case bool:
			want = " (want true or false)"
		case int, int64:
			want = " (want an integer)"
		case uint, uint64:
			want = " (want a non-negative integer)"
		case float64:
			want = " (want a number)"
		}
	}
	return fmt.Errorf("invalid value %q: %w%s", v, err, want)
}

// unknown explains an unknown key, naming the closest flag.
func unknown(fs *flag.FlagSet, section, key string) error {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if near := Closest(key, names); near != "" {
		return fmt.Errorf("%w (%s has no --%s flag; did you mean %s?)", ErrUnknownKey, section, key, near)
	}
	return fmt.Errorf("%w (%s has no --%s flag)", ErrUnknownKey, section, key)
}

// Closest returns the name nearest to s (at most two edits away), or "".
func Closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Check validates a section against the flag sets of the commands it
// serves (one for a role, several for the shared client section): each
// key must name a flag of one of them and its value must pass that flag
// set's Set. Sets should be fresh (throwaway) flag sets.
func Check(path string, s *Section, sets []*flag.FlagSet, skip map[string]bool) Errors {
	var errs Errors
	for _, e := range s.Entries {
		var target *flag.FlagSet
		for _, fs := range sets {
			if fs.Lookup(e.Key) != nil {
				target = fs
				break
			}
		}
		if target == nil {
			union := flag.NewFlagSet(s.Name, flag.ContinueOnError)
			for _, f := range unionFlags(sets) {
				union.Var(f.Value, f.Name, f.Usage)
			}
			errs = append(errs, &Error{Path: path, Pos: e.Pos, Section: s.Name, Key: e.Key, Err: unknown(union, s.Name, e.Key)})
			continue
		}
		errs = append(errs, SetEntry(target, path, s.Name, e, skip)...)
	}
	return errs
}

// SortedFlags returns the flags of fs by name.
func SortedFlags(fs *flag.FlagSet) []*flag.Flag {
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f) })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
