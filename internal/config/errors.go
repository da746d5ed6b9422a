package config

import (
	"errors"
	"strings"
)

// Error is one configuration problem. Pos says where the value came from
// ("parley.yaml:12" or "flag --listen") when known, and Path names the field
// in the config tree ("timers.t2", "listen[1]", "reason_phrases.404").
// Either may be empty. Load, Parse and Flags.Load return a single Error or
// several joined with errors.Join; Validate returns them without Pos.
type Error struct {
	Pos  string
	Path string
	Err  error
}

// Error formats the problem as "POS: PATH: message", leaving out empty parts.
func (e *Error) Error() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{e.Pos, e.Path} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, e.Err.Error()), ": ")
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// fieldErr returns an *Error about the field at path.
func fieldErr(path string, err error) error {
	return &Error{Path: path, Err: err}
}

// flatten returns the leaves of err, expanding errors.Join trees.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// under prefixes the paths of the errors in err with section, the yaml name
// of the section that produced them. Errors that are not *Error are wrapped.
func under(section string, err error) []error {
	var out []error
	for _, e := range flatten(err) {
		var fe *Error
		if !errors.As(e, &fe) {
			out = append(out, &Error{Path: section, Err: e})
			continue
		}
		c := *fe
		c.Path = joinPath(section, fe.Path)
		out = append(out, &c)
	}
	return out
}

// joinPath joins two path segments with "." unless either is empty or the
// child is an index ("[2]").
func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	}
	return parent + "." + child
}
