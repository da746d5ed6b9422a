package config

import (
	"errors"
	"flag"
	"slices"
	"strings"
)

// Flags holds the command-line flags that override the config file.
// Create it with RegisterFlags, parse the FlagSet, then call Load.
type Flags struct {
	ConfigPath string   // --config FILE
	Listen     []string // --listen SPEC, repeatable
	Domain     []string // --domain DOMAIN, repeatable
	DB         string   // --db DSN
	HTTP       string   // --http ADDR
	TLSCert    string   // --tls-cert FILE
	TLSKey     string   // --tls-key FILE
	LogLevel   string   // --log-level LEVEL
	Auth       bool     // --auth=false turns digest authentication off
	CDRFile    string   // --cdr-file PATH

	fs *flag.FlagSet
}

// RegisterFlags defines --config, --listen, --domain, --db, --http,
// --tls-cert, --tls-key and --log-level on fs. (The flag package accepts
// them with one dash or two.)
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.ConfigPath, "config", "", "read the configuration from YAML `FILE`")
	fs.Var((*listFlag)(&f.Listen), "listen", "listen on `SPEC`, as udp:0.0.0.0:5060 or wss:[::]:443/sip (repeatable; replaces the file's list)")
	fs.Var((*listFlag)(&f.Domain), "domain", "serve `DOMAIN` (repeatable; replaces the file's list)")
	fs.StringVar(&f.DB, "db", "", "database `DSN`: sqlite:PATH, postgres://..., postgresql://... or mysql://...")
	fs.StringVar(&f.HTTP, "http", "", "management API `ADDR` (HOST:PORT), or off")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate chain `FILE` (PEM)")
	fs.StringVar(&f.TLSKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fs.StringVar(&f.LogLevel, "log-level", "", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&f.CDRFile, "cdr-file", "", "also write call records as JSON lines to `PATH` (SIGHUP reopens it)")
	fs.BoolVar(&f.Auth, "auth", true, "challenge requests with digest authentication (--auth=false for closed networks and benchmarks)")
	return f
}

// Load reads the file named by --config (or starts from Default when there
// is none), applies every flag that was given on the command line, and then
// normalizes and validates the result. A repeatable flag given at least
// once replaces the file's whole list. Errors about a value that came from
// a flag are placed as "flag --NAME".
func (f *Flags) Load() (*Config, error) {
	if f.fs == nil || !f.fs.Parsed() {
		return nil, errors.New("config: Flags.Load needs a FlagSet that RegisterFlags set up and Parse has run on")
	}
	c, pos := Default(), origins{}
	if f.ConfigPath != "" {
		var err error
		if c, pos, err = loadFile(f.ConfigPath); err != nil {
			return nil, err
		}
	}
	f.fs.Visit(func(fl *flag.Flag) {
		if path := f.apply(fl.Name, c); path != "" {
			pos.set(path, "flag --"+fl.Name)
		}
	})
	return finish(c, pos)
}

// apply copies flag name's value into c and returns the path of the field
// it set, or "" if name is not a config override.
func (f *Flags) apply(name string, c *Config) string {
	switch name {
	case "listen":
		c.Listen = slices.Clone(f.Listen)
	case "domain":
		c.Domain = slices.Clone(f.Domain)
	case "db":
		c.DB = f.DB
	case "http":
		c.HTTP = f.HTTP
	case "tls-cert":
		c.TLSCert = f.TLSCert
	case "tls-key":
		c.TLSKey = f.TLSKey
	case "log-level":
		c.LogLevel = f.LogLevel
	case "auth":
		c.Auth.Enabled = f.Auth
		return "auth.enabled"
	case "cdr-file":
		c.Calls.CDRFile = f.CDRFile
		return "calls.cdr_file"
	default:
		return ""
	}
	return strings.ReplaceAll(name, "-", "_")
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
