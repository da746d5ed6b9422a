package config

import (
	"reflect"
	"strings"
)

// ReloadError lists the fields a reload tried to change that take effect
// only after a restart, by their paths in the config tree.
type ReloadError struct {
	Fields []string
}

// Error names the fields.
func (e *ReloadError) Error() string {
	return "config: cannot reload " + strings.Join(e.Fields, ", ") + ": restart Parley to change them"
}

// CheckReload returns a *ReloadError if next differs from old in a field
// that a reload (SIGHUP) cannot apply: one tagged reload:"restart", today
// listen, http, db, limits.capture_messages and websocket.allowed_origins.
// Both configs must be non-nil and normalized, as Load returns them. Order
// matters in lists; nil and empty are equal.
//
// As in Caddy and nats-server, the caller builds and validates next, calls
// CheckReload, then swaps next in and stops what old started.
func CheckReload(old, next *Config) error {
	fields := restartFields(reflect.ValueOf(old).Elem(), reflect.ValueOf(next).Elem(), "")
	if len(fields) == 0 {
		return nil
	}
	return &ReloadError{Fields: fields}
}

// restartFields returns the paths of the reload:"restart" fields that
// differ between structs a and b, descending into nested structs.
func restartFields(a, b reflect.Value, prefix string) []string {
	var out []string
	for i := range a.NumField() {
		f := a.Type().Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		path := joinPath(prefix, name)
		switch {
		case f.Tag.Get("reload") == "restart":
			if !equal(a.Field(i), b.Field(i)) {
				out = append(out, path)
			}
		case f.Type.Kind() == reflect.Struct:
			out = append(out, restartFields(a.Field(i), b.Field(i), path)...)
		}
	}
	return out
}

func equal(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
