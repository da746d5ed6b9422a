package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("500ms", "4s", "3m"). A bare number is rejected because its unit would
// be a guess.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a duration string. Errors are *yaml.TypeError
// values that carry the node's line, like yaml.v3's own.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n, "expected a duration such as \"500ms\", got %s", kindName(n.Kind))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return lineErr(n, "invalid duration %q: want a number with a unit, such as \"500ms\" or \"3m\"", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func lineErr(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)
	return &yaml.TypeError{Errors: []string{msg}}
}
