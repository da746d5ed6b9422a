package proxy

import (
	"context"
	"regexp"
	"time"
)

// Config configures a Proxy.
type Config struct {
	// TimerC bounds how long an INVITE branch may stay without a final
	// response after its last provisional (§16.8). Default 180s.
	TimerC time.Duration
	// Unregistered480 answers 480 Temporarily Unavailable for a known user
	// with no binding; by default such a call gets 404 like an unknown user,
	// so that users cannot be enumerated.
	Unregistered480 bool
	// UserExists tells whether a user of our domains exists (for Unregistered480).
	UserExists func(ctx context.Context, user, domain string) (bool, error)
	// OutboundProxy, when set ("sip:host:port;transport=udp"), receives every
	// request for a foreign domain instead of RFC 3263 resolution.
	OutboundProxy string
	// Redirect answers requests for users of our domains with 302 and their
	// contacts instead of proxying them (a redirect server, §8.3).
	Redirect bool
	// Follow3xx makes the proxy try the contacts of a 3xx from downstream
	// itself (§16.7 step 4) instead of passing the 3xx on.
	Follow3xx bool
	// ReasonPhrases rewrites the reason phrase of responses passing through;
	// the status code never changes.
	ReasonPhrases map[int]string
	// Instance names this Parley in shared-database mode: bindings held by
	// another instance are reached through it.
	Instance string
	// Calls tracks dialogs and writes call records (nil: a tracker of its own
	// without records). Pass the same tracker to every Proxy built on reload.
	Calls *Calls
	// MaxCallDuration ends an answered call with a BYE to both ends after this
	// long (0: never), so a lost BYE never leaves a call open forever.
	MaxCallDuration time.Duration
	// Routes are static routes tried before the location service.
	Routes []Route
	// Advertise is the host written in Via and Record-Route when a listener is
	// bound to a wildcard address.
	Advertise string
}

// Route sends requests whose Request-URI user matches User to To.
type Route struct {
	User      *regexp.Regexp
	To        string
	Stateless bool // forward without a transaction (§16.11)
	Redirect  bool // answer 302 to To instead
}

func (c Config) withDefaults() Config {
	if c.TimerC <= 0 {
		c.TimerC = 180 * time.Second
	}
	return c
}
