package transport

import "context"

// Target is what RFC 3263 §4 reads from a SIP or SIPS URI to locate the
// server it names.
type Target struct {
	// Host is the maddr parameter when present, else the host part: a
	// domain name or an IP address (IPv6 without brackets).
	Host string
	// Port is the explicit port of the URI, or 0.
	Port int
	// Proto is the transport parameter of the URI, or 0 when it has none.
	Proto Proto
	// Secure is set for a sips URI: only TLS (or WSS) may be used (§4.1).
	Secure bool
}

// Resolver finds the servers a request for a URI goes to (RFC 3263 §4).
//
// Resolve returns at least one destination, or an error. The destinations
// are in the order to try them: a client uses the first and moves to the
// next when a request to it fails with a transport error, a timeout without
// any response, or a 503 (RFC 3263 §4.3). Each Dest has Proto and Addr set,
// and Host set to t.Host for TLS server-name checks (RFC 5922 §4: the name
// checked is the domain of the URI, not the name an SRV record points to).
//
// A name that does not exist, or has no usable records, gives an error whose
// Timeout method (if any) reports false; DNS servers that do not answer in
// time give an error with Timeout() true, as *net.DNSError does. Resolve is
// safe for concurrent use and returns when ctx is done.
type Resolver interface {
	Resolve(ctx context.Context, t Target) ([]Dest, error)
}
