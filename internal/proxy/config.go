package proxy

import (
	"context"
	"regexp"
	"time"

	"github.com/parley-sip/parley/internal/transport"
)

// Config configures a Proxy.
type Config struct {
	// TimerC bounds how long an INVITE branch may stay without a final
	// response after its last provisional (§16.8). Default 185s: §16.8
	// wants more than 3 minutes.
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
	// Resolver locates the next hop of a URI by RFC 3263 (NAPTR, SRV,
	// A/AAAA) and gives the destinations to fail over to (§4.3). Nil: IP
	// addresses, and names by the system's A/AAAA lookup only.
	Resolver transport.Resolver
	// Redirect answers every request outside a dialog that would be
	// forwarded with 302 instead (a redirect server, §8.3): a user of our
	// domains with their contacts, a static route with the dialed user at its
	// gateway, a foreign domain with the Request-URI itself.
	Redirect bool
	// RedirectDomains puts only the requests whose Request-URI host is one of
	// these domains (lowercase) in redirect mode.
	RedirectDomains []string
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
	// Secret keys the signatures of the flows in our Record-Route URIs and
	// stateless Vias (see tokens). Every Proxy of this server, and every
	// instance sharing its database, must get the same one; when empty a
	// random one is made, which a rebuilt Proxy would not share.
	Secret []byte
	// Epoch names this process's connection table in the flows it signs:
	// pass the same value to every Proxy built on one transport layer (0: a
	// random one).
	Epoch uint32
}

// Route sends requests whose Request-URI user matches User to To.
type Route struct {
	User      *regexp.Regexp // matched against the Request-URI user, or the number of a tel: URI
	To        string
	Stateless bool // forward without a transaction (§16.11)
	Redirect  bool // answer 302 with the dialed user at To instead
}

// DefaultTimerC is Timer C when Config.TimerC is not set: more than the
// 3 minutes §16.8 asks for.
const DefaultTimerC = 185 * time.Second

func (c Config) withDefaults() Config {
	if c.TimerC <= 0 {
		c.TimerC = DefaultTimerC
	}
	return c
}
