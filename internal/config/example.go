package config

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ExampleSection is one section of a generated example file.
type ExampleSection struct {
	// Name is the section (role) name.
	Name string
	// Comment introduces the section.
	Comment string
	// Sets are the flag sets the section serves; a key shared by several
	// takes its help text and default from the first that has it.
	Sets []*flag.FlagSet
}

// WriteExample writes a complete commented config file: every flag of
// every section with its help text and its default value, so the file is
// valid as it is and shows every key. Flags in skip are left out; a flag
// whose default cannot be written back (a repeatable flag with no
// default) appears commented out.
func WriteExample(w io.Writer, header string, sections []ExampleSection, skip map[string]bool) error {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	for _, s := range sections {
		b.WriteString("\n")
		for _, line := range wrap(s.Comment, 76) {
			b.WriteString("# " + line + "\n")
		}
		b.WriteString(s.Name + ":\n")
		for _, f := range unionFlags(s.Sets) {
			if !skip[f.Name] {
				writeKey(&b, f, s.Sets)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unionFlags are the flags of all sets by name, each from the first set
// that has it.
func unionFlags(sets []*flag.FlagSet) []*flag.Flag {
	union := flag.NewFlagSet("union", flag.ContinueOnError)
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			if union.Lookup(f.Name) == nil {
				union.Var(f.Value, f.Name, f.Usage)
				union.Lookup(f.Name).DefValue = f.DefValue
			}
		})
	}
	return SortedFlags(union)
}

func writeKey(b *strings.Builder, f *flag.Flag, sets []*flag.FlagSet) {
	usage := f.Usage
	if len(sets) > 1 {
		var users []string
		for _, fs := range sets {
			if fs.Lookup(f.Name) != nil {
				users = append(users, fs.Name())
			}
		}
		if len(users) < len(sets) {
			usage += " [" + strings.Join(users, ", ") + "]"
		}
	}
	for _, line := range wrap(usage, 74) {
		b.WriteString("  # " + line + "\n")
	}
	if !roundTrips(f) {
		b.WriteString("  # " + f.Name + ": (no default; one value or a list)\n")
		return
	}
	v := strconv.Quote(f.DefValue)
	if k, ok := valueKind(f); ok {
		if _, isString := k.(string); !isString {
			v = f.DefValue // numbers, booleans, durations stay plain
		}
	}
	fmt.Fprintf(b, "  %s: %s\n", f.Name, v)
}

// roundTrips reports whether the flag's default can be written as a
// value: the standard types (flag.Getter) print what they parse; a custom
// flag (a repeatable list such as --label) may not, so it is shown
// commented out.
func roundTrips(f *flag.Flag) bool {
	_, ok := f.Value.(flag.Getter)
	return ok
}

// wrap splits text into lines of at most width characters.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
