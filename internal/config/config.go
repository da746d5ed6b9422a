package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
)

// Config is Parley's whole configuration: one typed tree, decoded strictly
// from YAML by Load or Parse and overridden by command-line flags.
//
// A section is a struct field with a yaml tag; if its type has a
// Validate() error method, Config.Validate calls it and prefixes the
// errors' paths with the section name. Fields tagged reload:"restart"
// cannot change on reload (see CheckReload).
type Config struct {
	// Listen lists the SIP listeners, as PROTO:HOST:PORT for udp, tcp and
	// tls or PROTO:HOST:PORT/PATH for ws and wss. See ParseListener.
	Listen []string `yaml:"listen" reload:"restart"`
	// Domain lists the domains Parley serves, stored as they appear in a
	// SIP URI host: lowercase, IPv6 addresses in brackets.
	Domain []string `yaml:"domain"`
	// DB is the database DSN: sqlite:PATH, postgres://, postgresql:// or
	// mysql://.
	DB string `yaml:"db" reload:"restart"`
	// HTTP is the management API address, HOST:PORT; "" or "off"
	// disables it.
	HTTP string `yaml:"http" reload:"restart"`
	// TLSCert and TLSKey are PEM files. Both or neither must be set, and
	// both are required by tls and wss listeners.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Advertise is the host[:port] Parley writes in Via and Record-Route
	// when it listens on a wildcard address; "" derives it.
	Advertise string `yaml:"advertise"`
	// Timers holds the RFC 3261 §17 timer values.
	Timers Timers `yaml:"timers"`
	// Limits bounds message sizes, connections and transactions.
	Limits Limits `yaml:"limits"`
	// SIP holds protocol-level choices.
	SIP SIP `yaml:"sip"`
	// WebSocket configures the ws and wss listeners (allowed origins).
	WebSocket WebSocket `yaml:"websocket"`
	// Registrar configures REGISTER handling.
	Registrar Registrar `yaml:"registrar"`
	// Auth configures digest authentication.
	Auth Auth `yaml:"auth"`
	// Proxy configures request routing.
	Proxy Proxy `yaml:"proxy"`
	// Calls configures dialog tracking and call records.
	Calls Calls `yaml:"calls"`
	// Location configures the location store.
	Location Location `yaml:"location"`
	// Media configures the media relay (rtpengine) for calls between
	// WebRTC and plain RTP.
	Media Media `yaml:"media"`
	// DNS configures RFC 3263 server location for other domains.
	DNS DNS `yaml:"dns"`
	// ReasonPhrases overrides the reason phrase sent with a status code
	// (RFC 3261 §21); keys are 100 to 699.
	ReasonPhrases map[int]string `yaml:"reason_phrases"`
}

// Default returns a new Config holding every default value. It is valid.
func Default() *Config {
	return &Config{
		Listen:    []string{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"},
		DB:        "sqlite:./parley.db",
		HTTP:      "127.0.0.1:8080",
		LogLevel:  "info",
		Timers:    DefaultTimers(),
		Limits:    DefaultLimits(),
		SIP:       DefaultSIP(),
		Registrar: DefaultRegistrar(),
		Auth:      DefaultAuth(),
		Location:  DefaultLocation(),
		Calls:     DefaultCalls(),
		Media:     DefaultMedia(),
		DNS:       DefaultDNS(),
	}
}

// Validate checks the top-level fields, then every section, then the
// fields that depend on each other. It returns all problems found, joined;
// each is an *Error naming the field's path.
func (c *Config) Validate() error {
	errs := c.validateTop()
	errs = append(errs, validateSections(reflect.ValueOf(c).Elem())...)
	errs = append(errs, c.crossCheck()...)
	return errors.Join(errs...)
}

func (c *Config) validateTop() []error {
	errs := checkListen(c.Listen)
	errs = append(errs, checkDomains(c.Domain)...)
	check := func(path string, err error) {
		if err != nil {
			errs = append(errs, fieldErr(path, err))
		}
	}
	check("db", checkDB(c.DB))
	check("http", checkHTTP(c.HTTP))
	check("log_level", checkLogLevel(c.LogLevel))
	if c.Advertise != "" {
		check("advertise", checkAdvertise(c.Advertise))
	}
	return append(errs, checkReasonPhrases(c.ReasonPhrases)...)
}

// crossCheck validates fields against each other.
func (c *Config) crossCheck() []error {
	var errs []error
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		errs = append(errs, fieldErr("tls_cert", errors.New("set without tls_key; set both or neither")))
	case c.TLSCert == "" && c.TLSKey != "":
		errs = append(errs, fieldErr("tls_key", errors.New("set without tls_cert; set both or neither")))
	}
	if c.TLSCert != "" && c.TLSKey != "" {
		return errs
	}
	for i, s := range c.Listen {
		if l, err := ParseListener(s); err == nil && l.Secure() {
			errs = append(errs, fieldErr(fmt.Sprintf("listen[%d]", i),
				fmt.Errorf("%s listener needs tls_cert and tls_key", l.Proto)))
		}
	}
	return errs
}

// validateSections calls Validate on every field of struct v whose type has
// one, prefixing the resulting paths with the field's yaml name.
func validateSections(v reflect.Value) []error {
	type validator interface{ Validate() error }
	var errs []error
	for i := range v.NumField() {
		name, f := yamlName(v.Type().Field(i)), v.Field(i)
		if name == "" || f.Kind() == reflect.Pointer && f.IsNil() {
			continue
		}
		if f.Kind() != reflect.Pointer {
			f = f.Addr()
		}
		if s, ok := f.Interface().(validator); ok {
			errs = append(errs, under(name, s.Validate())...)
		}
	}
	return errs
}

// normalize rewrites values into their canonical form: listen specs and
// domains as ParseListener and canonicalDomain print them, log level and
// "off" in lowercase. Values that do not parse are left for Validate.
func (c *Config) normalize() {
	for i, s := range c.Listen {
		if l, err := ParseListener(s); err == nil {
			c.Listen[i] = l.String()
		}
	}
	for i, d := range c.Domain {
		if n, err := canonicalDomain(d); err == nil {
			c.Domain[i] = n
		}
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
	if strings.EqualFold(c.HTTP, "off") {
		c.HTTP = "off"
	}
}

// Listeners parses c.Listen.
func (c *Config) Listeners() ([]Listener, error) {
	out := make([]Listener, 0, len(c.Listen))
	for _, s := range c.Listen {
		l, err := ParseListener(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// HTTPAddr returns the management API address, or "" if it is disabled.
func (c *Config) HTTPAddr() string {
	if strings.EqualFold(c.HTTP, "off") {
		return ""
	}
	return c.HTTP
}

// Level returns LogLevel as a slog.Level; unknown levels give info.
func (c *Config) Level() slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(c.LogLevel)) != nil {
		return slog.LevelInfo
	}
	return l
}
