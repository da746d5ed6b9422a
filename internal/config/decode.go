package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree alongside a Go value and decodes it
// strictly: every mapping key must name a field of the struct it lands in,
// and every problem is reported with the file and line it comes from. The
// walk is driven by reflection over `yaml` struct tags, so a new config
// section needs nothing here.
//
// Decoding overlays the value: keys that are absent or null keep what the
// value already held (the defaults). Lists and maps present in the file
// replace the default ones; list elements and map values start from their
// zero value.
type decoder struct {
	file string
	pos  origins
	errs []error
}

// decodeYAML overlays the YAML in data onto out, a pointer to a struct,
// recording in the returned origins where each field was set.
func decodeYAML(data []byte, file string, out any) (origins, error) {
	d := &decoder{file: file, pos: origins{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return d.pos, nil // empty file: all defaults
		}
		return nil, d.syntax(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{Pos: d.at(extra.Line), Err: errors.New("more than one YAML document")}
	case !errors.Is(err, io.EOF):
		return nil, d.syntax(err)
	}
	if len(doc.Content) > 0 {
		d.value(doc.Content[0], reflect.ValueOf(out).Elem(), "")
	}
	return d.pos, errors.Join(d.errs...)
}

func (d *decoder) at(line int) string {
	return d.file + ":" + strconv.Itoa(line)
}

func (d *decoder) fail(n *yaml.Node, path string, err error) {
	d.errs = append(d.errs, &Error{Pos: d.at(n.Line), Path: path, Err: err})
}

// syntax rewrites a yaml.v3 parse error ("yaml: line 3: ...") as FILE:3.
func (d *decoder) syntax(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, rest := splitLine(msg)
	if line == 0 {
		return &Error{Pos: d.file, Err: errors.New(msg)}
	}
	return &Error{Pos: d.at(line), Err: errors.New(rest)}
}

// splitLine splits "line 12: message" into 12 and "message". It returns 0
// and msg unchanged when msg has no such prefix.
func splitLine(msg string) (int, string) {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, msg
	}
	return line, text
}

// value decodes n into v, which must be addressable.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" or "key: ~" keeps the default
	}
	if isLeaf(v.Type()) {
		d.leaf(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	default:
		d.leaf(n, v, path)
	}
}

// isLeaf reports whether values of type t decode themselves.
func isLeaf(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(reflect.TypeFor[yaml.Unmarshaler]()) ||
		p.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// leaf decodes a scalar (or a self-decoding value) with yaml.v3 and turns
// its "line N: ..." type errors into FILE:N errors.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	err := n.Decode(v.Addr().Interface())
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if err != nil {
			d.fail(n, path, err)
		}
		return
	}
	for _, msg := range te.Errors {
		line, text := splitLine(msg)
		if line == 0 {
			line = n.Line
		}
		d.errs = append(d.errs, &Error{Pos: d.at(line), Path: path, Err: errors.New(text)})
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if !d.expect(n, yaml.MappingNode, path) {
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			d.fail(k, "", fmt.Errorf("duplicate key %q %s (first at line %d)", k.Value, where(path), first))
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, "", fmt.Errorf("unknown key %q %s", k.Value, where(path)))
			continue
		}
		p := joinPath(path, k.Value)
		d.pos[p] = d.at(k.Line)
		d.value(val, v.Field(idx), p)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if !d.expect(n, yaml.SequenceNode, path) {
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.pos[p] = d.at(e.Line)
		d.value(e, s.Index(i), p)
	}
	v.Set(s)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if !d.expect(n, yaml.MappingNode, path) {
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := reflect.New(t.Key()).Elem()
		before := len(d.errs)
		if d.leaf(k, key, path); len(d.errs) > before {
			continue
		}
		name := fmt.Sprint(key.Interface())
		if first, dup := seen[name]; dup {
			d.fail(k, path, fmt.Errorf("duplicate key %q (first at line %d)", k.Value, first))
			continue
		}
		seen[name] = k.Line
		p := joinPath(path, name)
		d.pos[p] = d.at(k.Line)
		elem := reflect.New(t.Elem()).Elem()
		d.value(val, elem, p)
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

// expect reports whether n is of the wanted kind, recording an error if not.
func (d *decoder) expect(n *yaml.Node, want yaml.Kind, path string) bool {
	if n.Kind == want {
		return true
	}
	d.fail(n, path, fmt.Errorf("expected %s, got %s", kindName(want), kindName(n.Kind)))
	return false
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// where names the section a key was found in, for error messages.
func where(path string) string {
	if path == "" {
		return "at top level"
	}
	return "in section " + path
}

// yamlFields maps the yaml key of each exported field of struct type t to
// the field's index, following yaml.v3's rules: the tag name, or the
// lowercased field name when the tag has none; "-" skips the field.
func yamlFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
		}
	}
	return fields
}

// yamlName returns the yaml key of f, or "" if f is not decoded.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}
