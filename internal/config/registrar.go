package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Registrar configures REGISTER handling (RFC 3261 §10.3).
type Registrar struct {
	// MinExpires is the shortest registration accepted; shorter non-zero
	// requests get 423 Interval Too Brief with Min-Expires. Default 60.
	MinExpires int `yaml:"min_expires"`
	// MaxExpires caps a registration's lifetime; longer requests are
	// shortened to it. Default 7200.
	MaxExpires int `yaml:"max_expires"`
	// DefaultExpires applies when a contact has no expires parameter and the
	// request has no Expires header. Default 3600.
	DefaultExpires int `yaml:"default_expires"`
	// MaxContacts is the most bindings one address-of-record may hold; a
	// REGISTER that would exceed it is refused with 503 "Too Many Registered
	// Contacts" (as Kamailio's registrar does) and changes nothing. 0 means no
	// limit. Default 10.
	MaxContacts int `yaml:"max_contacts"`
}

// DefaultRegistrar returns the registrar defaults.
func DefaultRegistrar() Registrar {
	return Registrar{MinExpires: 60, MaxExpires: 7200, DefaultExpires: 3600, MaxContacts: 10}
}

// Validate checks 1 <= min <= default <= max and max_contacts >= 0.
func (r Registrar) Validate() error {
	var errs []error
	if r.MinExpires < 1 {
		errs = append(errs, fieldErr("min_expires", errors.New("must be at least 1")))
	}
	if r.DefaultExpires < r.MinExpires || r.DefaultExpires > r.MaxExpires {
		errs = append(errs, fieldErr("default_expires", fmt.Errorf("must lie between min_expires (%d) and max_expires (%d)", r.MinExpires, r.MaxExpires)))
	}
	if r.MaxExpires < r.MinExpires {
		errs = append(errs, fieldErr("max_expires", fmt.Errorf("must be at least min_expires (%d)", r.MinExpires)))
	}
	if r.MaxContacts < 0 {
		errs = append(errs, fieldErr("max_contacts", errors.New("must be 0 (no limit) or more")))
	}
	return errors.Join(errs...)
}

// Auth configures digest authentication (RFC 3261 §22, RFC 7616, RFC 8760).
type Auth struct {
	// Enabled turns authentication on (default). --auth=false turns it off,
	// for closed networks and benchmarks.
	Enabled bool `yaml:"enabled"`
	// UnknownUser is the answer to a request from a user who does not exist:
	// "403" (default, the same answer as a wrong password, so users cannot be
	// enumerated) or "404" (404 User Not Found).
	UnknownUser string `yaml:"unknown_user"`
	// Trusted lists source networks (CIDR) whose requests are not challenged.
	Trusted []string `yaml:"trusted"`
	// NonceTTL is how long a nonce stays valid. Default 5m.
	NonceTTL Duration `yaml:"nonce_ttl"`
	// Algorithms are the digest algorithms offered, in order of preference
	// (RFC 8760 §2.4): MD5 and SHA-256. Default [MD5, SHA-256], because clients
	// that read only the first challenge (sipsak, older phones) know only MD5.
	Algorithms []string `yaml:"algorithms"`
	// MD5OnlyAgents lists User-Agent substrings of clients that are offered
	// MD5 alone, because they give up when a challenge names SHA-256 even with
	// an MD5 challenge beside it. Default ["baresip", "JsSIP", "SIP.js"]: Debian 12's
	// baresip 1.0.0, and the browser libraries, which keep only the last
	// WWW-Authenticate of a response and give up unless it is MD5.
	MD5OnlyAgents []string `yaml:"md5_only_agents"`
	// Secret is the key that signs nonces (at least 16 characters). Default:
	// a key derived from the secret Parley keeps in its database
	// (HMAC-SHA256(secret, "auth-nonce")), so that instances sharing a
	// database accept each other's nonces, and nonces outstanding at a
	// restart stay valid. Set it only to share nonces between instances on
	// different databases.
	Secret string `yaml:"secret"`
}

// DefaultAuth returns the authentication defaults.
func DefaultAuth() Auth {
	return Auth{Enabled: true, UnknownUser: "403", NonceTTL: Duration(5 * time.Minute), Algorithms: []string{"MD5", "SHA-256"},
		MD5OnlyAgents: []string{"baresip", "JsSIP", "SIP.js"}}
}

// Validate checks unknown_user, the trusted networks and the nonce lifetime.
func (a Auth) Validate() error {
	var errs []error
	if a.UnknownUser != "403" && a.UnknownUser != "404" {
		errs = append(errs, fieldErr("unknown_user", fmt.Errorf("must be \"403\" or \"404\", got %q", a.UnknownUser)))
	}
	for i, n := range a.Trusted {
		if _, err := ParsePrefix(n); err != nil {
			errs = append(errs, fieldErr("trusted["+strconv.Itoa(i)+"]", err))
		}
	}
	if a.Secret != "" && len(a.Secret) < 16 {
		errs = append(errs, fieldErr("secret", errors.New("must have at least 16 characters")))
	}
	if len(a.Algorithms) == 0 {
		errs = append(errs, fieldErr("algorithms", errors.New("list at least one of MD5, SHA-256")))
	}
	seen := map[string]bool{}
	for i, alg := range a.Algorithms {
		if (alg != "MD5" && alg != "SHA-256") || seen[alg] {
			errs = append(errs, fieldErr("algorithms["+strconv.Itoa(i)+"]", fmt.Errorf("%q: each of MD5 and SHA-256 at most once", alg)))
		}
		seen[alg] = true
	}
	if a.NonceTTL < Duration(10*time.Second) {
		errs = append(errs, fieldErr("nonce_ttl", errors.New("must be at least 10s")))
	}
	return errors.Join(errs...)
}

// ParsePrefix accepts a CIDR or a single address (as a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network (CIDR) or an address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// TrustedPrefixes returns Trusted parsed; call after Validate.
func (a Auth) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range a.Trusted {
		if p, err := ParsePrefix(n); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Location configures the location store (bindings).
type Location struct {
	// WriteMode is "write-back" (default: memory first, changes written to
	// the database in batches within about 100 ms; a crash can lose the last
	// batch) or "write-through" (each REGISTER waits for the database).
	WriteMode string `yaml:"write_mode"`
	// SweepInterval is how often expired bindings are removed. Default 30s.
	SweepInterval Duration `yaml:"sweep_interval"`
}

// DefaultLocation returns the location store defaults.
func DefaultLocation() Location {
	return Location{WriteMode: "write-back", SweepInterval: Duration(30 * time.Second)}
}

// Validate checks the write mode and sweep interval.
func (l Location) Validate() error {
	var errs []error
	if l.WriteMode != "write-back" && l.WriteMode != "write-through" {
		errs = append(errs, fieldErr("write_mode", fmt.Errorf("must be write-back or write-through, got %q", l.WriteMode)))
	}
	if l.SweepInterval < Duration(time.Second) {
		errs = append(errs, fieldErr("sweep_interval", errors.New("must be at least 1s")))
	}
	return errors.Join(errs...)
}

// Proxy configures request routing (RFC 3261 §16).
type Proxy struct {
	// Unregistered480 answers 480 Temporarily Unavailable for a known user
	// who is not registered. Off by default: such a call gets 404 like an
	// unknown user, so that users cannot be enumerated.
	Unregistered480 bool `yaml:"unregistered_480"`
	// OutboundProxy receives requests for foreign domains instead of RFC 3263
	// resolution, as a SIP URI ("sip:gw.example.net:5060;transport=udp").
	OutboundProxy string `yaml:"outbound_proxy"`
	// Redirect makes Parley a redirect server (RFC 3261 §8.3): every request
	// outside a dialog it would forward gets 302 instead, with the contacts of
	// a user of ours, the dialed user at a static route's gateway, or the
	// Request-URI of a foreign domain.
	Redirect bool `yaml:"redirect"`
	// RedirectDomains puts the requests for these domains (the Request-URI
	// host) in redirect mode, the others being proxied.
	RedirectDomains []string `yaml:"redirect_domains"`
	// Follow3xx makes the proxy try the contacts of a 3xx from downstream
	// instead of relaying it (§16.7 step 4).
	Follow3xx bool `yaml:"follow_3xx"`
	// Routes are static routes tried, in order, before the location service:
	// the first whose pattern matches the Request-URI user sends the request
	// to its gateway.
	Routes []Route `yaml:"routes"`
}

// Route is one static route (a gateway, like Kamailio's dispatcher or a
// FreePBX outbound route).
type Route struct {
	// User is a regular expression matched against the Request-URI user,
	// e.g. "^\\+?[0-9]{6,}$" for phone numbers.
	User string `yaml:"user"`
	// To is the next hop, a SIP URI ("sip:192.0.2.1:5060;transport=udp").
	To string `yaml:"to"`
	// Stateless forwards without transaction state (RFC 3261 §16.11): less
	// memory and CPU per request, but no forking, no failover, no Timer C.
	Stateless bool `yaml:"stateless"`
	// Redirect answers 302 pointing at To instead of forwarding.
	Redirect bool `yaml:"redirect"`
}

// Validate checks the outbound proxy URI and the routes.
func (p Proxy) Validate() error {
	var errs []error
	if p.OutboundProxy != "" && !isSIPURI(p.OutboundProxy) {
		errs = append(errs, fieldErr("outbound_proxy", fmt.Errorf("%q is not a sip: or sips: URI", p.OutboundProxy)))
	}
	errs = append(errs, checkDomainList("redirect_domains", p.RedirectDomains)...)
	for i, r := range p.Routes {
		path := "routes[" + strconv.Itoa(i) + "]"
		if _, err := regexp.Compile(r.User); err != nil || r.User == "" {
			errs = append(errs, fieldErr(path+".user", fmt.Errorf("%q is not a regular expression", r.User)))
		}
		if !isSIPURI(r.To) {
			errs = append(errs, fieldErr(path+".to", fmt.Errorf("%q is not a sip: or sips: URI", r.To)))
		}
		if r.Stateless && r.Redirect {
			errs = append(errs, fieldErr(path, errors.New("stateless and redirect exclude each other")))
		}
	}
	return errors.Join(errs...)
}

func isSIPURI(s string) bool { return strings.HasPrefix(s, "sip:") || strings.HasPrefix(s, "sips:") }

// Calls configures dialog tracking and call records (CDRs).
type Calls struct {
	// MaxDuration ends an answered call with a BYE to both ends after this
	// long, so a lost BYE never leaves a call open forever (like Kamailio's
	// dialog timeout). Default 12h; 0 disables it.
	MaxDuration Duration `yaml:"max_duration"`
	// CDRFile, when set, also writes every call record as a JSON line to this
	// file (--cdr-file); SIGHUP reopens it, for rotation.
	CDRFile string `yaml:"cdr_file"`
	// CDRDatabase writes call records to the database's cdr table. Default true.
	CDRDatabase bool `yaml:"cdr_database"`
}

// DefaultCalls returns the dialog and CDR defaults.
func DefaultCalls() Calls {
	return Calls{MaxDuration: Duration(12 * time.Hour), CDRDatabase: true}
}

// Validate checks the maximum duration.
func (c Calls) Validate() error {
	if c.MaxDuration < 0 || (c.MaxDuration > 0 && c.MaxDuration < Duration(time.Second)) {
		return fieldErr("max_duration", errors.New("must be 0 (no limit) or at least 1s"))
	}
	return nil
}
