package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefaultIsValidAndFresh(t *testing.T) {
	a, b := Default(), Default()
	if err := a.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	a.Listen[0] = "udp:127.0.0.1:1"
	a.SIP.Supported[0] = "x"
	if b.Listen[0] != "udp:0.0.0.0:5060" || b.SIP.Supported[0] != "path" {
		t.Fatal("Default returned values that share storage")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(path, []byte("log_level: debug\ntimers:\n  t1: 1s\n  t2: 8s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "debug" || c.Timers.T1.Std() != time.Second || c.Timers.T4.Std() != 5*time.Second {
		t.Errorf("Load = %+v", c)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse([]byte("timers:\n  t1: 2s\n  t2: 1s\n"), "p.yaml")
	fe, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error %v is not an *Error", err)
	}
	if fe.Pos != "p.yaml:3" || fe.Path != "timers.t2" {
		t.Errorf("got Pos %q Path %q, want p.yaml:3 timers.t2", fe.Pos, fe.Path)
	}
	if err := (&Config{}).Validate(); len(flatten(err)) < 3 {
		t.Errorf("zero Config should report many problems, got %v", err)
	}
}

// TestDocExample keeps the example in doc.go loadable and valid.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(src), "// # Example\n")
	if !ok {
		t.Fatal("doc.go has no # Example heading")
	}
	var yml strings.Builder
	for line := range strings.Lines(after) {
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			yml.WriteString(code)
		} else if line == "//\n" {
			yml.WriteString("\n")
		}
	}
	c, err := Parse([]byte(yml.String()), "doc.go example")
	if err != nil {
		t.Fatalf("%v\n%s", err, yml.String())
	}
	if len(c.Listen) != 4 || c.ReasonPhrases[404] != "No Such User" || c.Timers.TimerC.Std() != 185*time.Second {
		t.Errorf("example decoded to %+v", c)
	}
}

func TestDurationStandalone(t *testing.T) {
	var v struct {
		T Duration `yaml:"t"`
	}
	err := yaml.Unmarshal([]byte("a: 1\nt: 5x\n"), &v)
	if err == nil || !strings.Contains(err.Error(), `line 2: invalid duration "5x"`) {
		t.Errorf("err = %v, want line 2 invalid duration", err)
	}
	if err := yaml.Unmarshal([]byte("t: 1m30s\n"), &v); err != nil || v.T.Std() != 90*time.Second {
		t.Errorf("got %v, %v", v.T, err)
	}
	if err := yaml.Unmarshal([]byte("t: [1s]\n"), &v); err == nil {
		t.Error("a list decoded as a duration")
	}
}

func TestHelpers(t *testing.T) {
	c := Default()
	if c.Level() != slog.LevelInfo || c.HTTPAddr() != "127.0.0.1:8080" {
		t.Errorf("Level %v HTTPAddr %q", c.Level(), c.HTTPAddr())
	}
	c.LogLevel, c.HTTP = "debug", "off"
	if c.Level() != slog.LevelDebug || c.HTTPAddr() != "" {
		t.Errorf("Level %v HTTPAddr %q", c.Level(), c.HTTPAddr())
	}
	ls, err := c.Listeners()
	if err != nil || len(ls) != 2 || ls[0].Network() != "udp" || ls[1].Addr() != "0.0.0.0:5060" {
		t.Errorf("Listeners = %v, %v", ls, err)
	}
	c.Listen = append(c.Listen, "bogus")
	if _, err := c.Listeners(); err == nil {
		t.Error("Listeners accepted a bad spec")
	}
}
