package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Load reads the YAML file at path over Default, then normalizes and
// validates the result. Every error carries PATH:LINE when it can be tied
// to the file, for example
//
//	parley.yaml:7: unknown key "t3" in section timers
//	parley.yaml:9: timers.t1: invalid duration "5x": ...
func Load(path string) (*Config, error) {
	c, pos, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	return finish(c, pos)
}

// Parse is Load for YAML already in memory; name stands for the file in
// error messages.
func Parse(data []byte, name string) (*Config, error) {
	c, pos, err := parse(data, name)
	if err != nil {
		return nil, err
	}
	return finish(c, pos)
}

func loadFile(path string) (*Config, origins, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	return parse(data, path)
}

// parse decodes data over Default without validating.
func parse(data []byte, name string) (*Config, origins, error) {
	if name == "" {
		name = "config"
	}
	c := Default()
	pos, err := decodeYAML(data, name, c)
	if err != nil {
		return nil, nil, err
	}
	return c, pos, nil
}

// finish normalizes and validates c, placing errors with pos.
func finish(c *Config, pos origins) (*Config, error) {
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, pos.annotate(err)
	}
	return c, nil
}

// origins maps field paths ("timers.t1", "listen[0]") to where their
// values came from: "FILE:LINE" or "flag --NAME".
type origins map[string]string

// lookup returns the origin of path or of its nearest ancestor.
func (o origins) lookup(path string) string {
	for path != "" {
		if pos, ok := o[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return ""
}

// set records that path, and everything below it, now comes from pos.
func (o origins) set(path, pos string) {
	for p := range o {
		if strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			delete(o, p)
		}
	}
	o[path] = pos
}

// annotate fills in Pos for the *Error values in err whose path has a
// known origin.
func (o origins) annotate(err error) error {
	errs := flatten(err)
	for i, e := range errs {
		if fe, ok := errors.AsType[*Error](e); ok && fe.Pos == "" {
			c := *fe
			c.Pos = o.lookup(fe.Path)
			errs[i] = &c
		}
	}
	return errors.Join(errs...)
}
