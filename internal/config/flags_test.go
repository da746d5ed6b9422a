package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newFlags(t *testing.T, args ...string) *Flags {
	t.Helper()
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeConfig(t *testing.T, yml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRegisterFlagsNames(t *testing.T) {
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	RegisterFlags(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	want := []string{"auth", "cdr-file", "config", "db", "domain", "http", "listen", "log-level", "tls-cert", "tls-key"}
	if !slices.Equal(names, want) {
		t.Errorf("flags = %v, want %v", names, want)
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	path := writeConfig(t, `listen: [udp:0.0.0.0:5060, tcp:0.0.0.0:5060, tls:0.0.0.0:5061]
domain: [file.example]
tls_cert: /file/cert.pem
tls_key: /file/key.pem
log_level: warn
`)
	f := newFlags(t, "--config", path, "--listen", "udp:127.0.0.1:5070", "-listen=TCP:127.0.0.1:5070",
		"--db=postgres://localhost/parley", "--http", "", "--tls-cert", "/flag/cert.pem")
	c, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"}; !slices.Equal(c.Listen, want) {
		t.Errorf("Listen = %v, want %v (flags replace the file's list)", c.Listen, want)
	}
	if want := []string{"file.example"}; !slices.Equal(c.Domain, want) {
		t.Errorf("Domain = %v, want the file's %v", c.Domain, want)
	}
	if c.DB != "postgres://localhost/parley" || c.HTTP != "" || c.TLSCert != "/flag/cert.pem" ||
		c.TLSKey != "/file/key.pem" || c.LogLevel != "warn" {
		t.Errorf("got %+v", c)
	}
	if f.Listen[1] != "TCP:127.0.0.1:5070" {
		t.Errorf("normalizing the config changed the flag's own slice: %v", f.Listen)
	}
}

func TestFlagsWithoutFile(t *testing.T) {
	c, err := newFlags(t, "--domain", "a.example", "--domain", "B.example").Load()
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Domain = []string{"a.example", "b.example"}
	if CheckReload(want, c) != nil || !slices.Equal(c.Domain, want.Domain) || c.Timers != want.Timers {
		t.Errorf("got %+v, want defaults with two domains", c)
	}
}

func TestFlagsErrors(t *testing.T) {
	f := RegisterFlags(flag.NewFlagSet("parley", flag.ContinueOnError))
	if _, err := f.Load(); err == nil || !strings.Contains(err.Error(), "Parse") {
		t.Errorf("Load before Parse = %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := newFlags(t, "--config", missing).Load(); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: %v", err)
	}
	path := writeConfig(t, "bogus: 1\n")
	if _, err := newFlags(t, "--config", path).Load(); err == nil || !strings.Contains(err.Error(), `parley.yaml:1: unknown key "bogus"`) {
		t.Errorf("unknown key: %v", err)
	}
	_, err := newFlags(t, "--listen", "tls:0.0.0.0:5061").Load()
	if err == nil || !strings.Contains(err.Error(), "flag --listen: listen[0]: tls listener needs tls_cert and tls_key") {
		t.Errorf("tls listener from flag: %v", err)
	}
}
