// Package config reads the vodfleet config file: one YAML mapping with a
// section per role whose keys are that role's flag names. Values are
// applied with flag.FlagSet.Set, so every flag a role defines, now or
// later, is configurable without extra code and is validated by the same
// parser as on the command line.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a 1-based line and column in the file.
type Pos struct {
	Line, Col int
}

// File is a parsed config file.
type File struct {
	// Path is the file name used in error messages.
	Path string
	// Sections are the top-level sections in file order.
	Sections []*Section
}

// Section is one role's settings.
type Section struct {
	// Name is the role (the top-level key).
	Name string
	// Pos is where the section's key is.
	Pos Pos
	// Entries are the settings in file order.
	Entries []Entry
}

// Entry is one key of a section. A scalar has one value; a list or a
// mapping ({k: v} becomes "k=v") has one value per item, applied as a
// repeated flag or joined with commas (see Apply).
type Entry struct {
	// Key is the flag name.
	Key string
	// Pos is where the key is; ValuePos where its value starts.
	Pos, ValuePos Pos
	// Values are the scalar value or the items of a list or mapping.
	Values []Value
	// List is true when the value was a sequence or a mapping.
	List bool
}

// Value is one scalar with its position, for precise error messages.
type Value struct {
	Text string
	Pos  Pos
}

// Load reads and parses the file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses data read from path. Structural problems (a section that
// is not a mapping, a duplicate key, a nested value) are returned as
// Errors, every one with its position.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return f, nil // empty file
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	var errs Errors
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{Path: path, Pos: pos(root), Err: errors.New("the file must be a mapping of role sections, e.g. coordinator: {lease: 30s}")}}
	}
	seen := map[string]Pos{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		if first, dup := seen[k.Value]; dup {
			errs = append(errs, &Error{Path: path, Pos: pos(k), Section: k.Value, Err: fmt.Errorf("duplicate section (first at line %d)", first.Line)})
			continue
		}
		seen[k.Value] = pos(k)
		s, serrs := parseSection(path, k, v)
		errs = append(errs, serrs...)
		f.Sections = append(f.Sections, s)
	}
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

func parseSection(path string, k, v *yaml.Node) (*Section, Errors) {
	s := &Section{Name: k.Value, Pos: pos(k)}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return s, nil // "edge:" with nothing under it
	}
	if v.Kind != yaml.MappingNode {
		return s, Errors{{Path: path, Pos: pos(v), Section: s.Name, Err: errors.New("a section must be a mapping of flag names to values")}}
	}
	var errs Errors
	seen := map[string]Pos{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		kn, vn := v.Content[i], deref(v.Content[i+1])
		bad := func(p Pos, err error) {
			errs = append(errs, &Error{Path: path, Pos: p, Section: s.Name, Key: kn.Value, Err: err})
		}
		if first, dup := seen[kn.Value]; dup {
			bad(pos(kn), fmt.Errorf("duplicate key (first at line %d)", first.Line))
			continue
		}
		seen[kn.Value] = pos(kn)
		e := Entry{Key: kn.Value, Pos: pos(kn), ValuePos: pos(vn)}
		switch vn.Kind {
		case yaml.ScalarNode:
			if vn.Tag == "!!null" {
				bad(pos(vn), errors.New(`no value (write "" for an empty string)`))
				continue
			}
			e.Values = []Value{{vn.Value, pos(vn)}}
		case yaml.SequenceNode:
			e.List = true
			for _, item := range vn.Content {
				item = deref(item)
				if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
					bad(pos(item), errors.New("list items must be plain values"))
					continue
				}
				e.Values = append(e.Values, Value{item.Value, pos(item)})
			}
		case yaml.MappingNode:
			e.List = true
			for j := 0; j+1 < len(vn.Content); j += 2 {
				ik, iv := vn.Content[j], deref(vn.Content[j+1])
				if iv.Kind != yaml.ScalarNode || iv.Tag == "!!null" {
					bad(pos(iv), errors.New("mapping values must be plain values"))
					continue
				}
				e.Values = append(e.Values, Value{ik.Value + "=" + iv.Value, pos(ik)})
			}
		default:
			bad(pos(vn), errors.New("unsupported value"))
			continue
		}
		s.Entries = append(s.Entries, e)
	}
	return s, errs
}

// Section returns the named section or nil.
func (f *File) Section(name string) *Section {
	if f == nil {
		return nil
	}
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// Error is one problem at a place in a config file (or, with no Path, in
// an environment variable).
type Error struct {
	// Path is the file; empty for an environment variable.
	Path string
	// Pos is the place in the file.
	Pos Pos
	// Section and Key name the setting ("coordinator", "lease").
	Section, Key string
	// Env is the environment variable the value came from, if any.
	Env string
	// Err is the problem.
	Err error
}

// Error formats as FILE:LINE:COL: SECTION.KEY: problem.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString(e.Env + ": ")
	case e.Path != "":
		fmt.Fprintf(&b, "%s:%d:%d: ", e.Path, e.Pos.Line, e.Pos.Col)
	}
	if e.Section != "" {
		b.WriteString(e.Section)
		if e.Key != "" {
			b.WriteString("." + e.Key)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem.
func (e *Error) Unwrap() error { return e.Err }

// Errors are all the problems found, one per line.
type Errors []*Error

// Error joins the problems with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
