package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transport"
)

// resolveTimeout bounds one RFC 3263 resolution, whatever the caller's context.
const resolveTimeout = 5 * time.Second

// resolve returns where to send a request for uri: the first destination
// RFC 3263 gives (see resolveAll).
func (p *Proxy) resolve(ctx context.Context, uri []byte) (transport.Dest, error) {
	ds, err := p.resolveAll(ctx, uri)
	if err != nil {
		return transport.Dest{}, err
	}
	return ds[0], nil
}

// resolveTarget returns t sent to the first destination RFC 3263 gives for
// uri, with the others kept for failover (§4.3, see failLocked).
func (p *Proxy) resolveTarget(ctx context.Context, uri []byte, t target) (target, error) {
	ds, err := p.resolveAll(ctx, uri)
	if err != nil {
		return t, err
	}
	t.dest, t.alt = ds[0], ds[1:]
	return t, nil
}

// resolveAll locates the servers for uri by RFC 3263 §4 through the
// configured Resolver (NAPTR, SRV, A/AAAA): at least one destination, in the
// order to try them, or an error.
func (p *Proxy) resolveAll(ctx context.Context, uri []byte) ([]transport.Dest, error) {
	t, err := uriTarget(uri)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	r := p.cfg.Resolver
	if r == nil {
		r = systemResolver{}
	}
	return r.Resolve(ctx, t)
}

// uriTarget reads what RFC 3263 §4 works from in a sip or sips URI: the
// maddr parameter or else the host, the port, the transport parameter and
// the scheme. A transport Parley does not have (sctp) is an error.
func uriTarget(uri []byte) (transport.Target, error) {
	u, err := sip.ParseURI(uri)
	if err != nil || !u.IsSIP() {
		return transport.Target{}, fmt.Errorf("cannot route to %q", uri)
	}
	t := transport.Target{Host: string(u.Host), Port: u.Port, Secure: u.IsSecure()}
	if m, ok := u.Param("maddr"); ok && len(m) > 0 {
		t.Host = string(m)
	}
	t.Host = strings.Trim(t.Host, "[]")
	if v, ok := u.Param("transport"); ok {
		p, ok := transport.ParseProto(string(v))
		if !ok {
			return t, fmt.Errorf("cannot route to %q: unsupported transport %q", uri, v)
		}
		t.Proto = p
	}
	return t, nil
}

// resolveError is the answer to a request whose next hop could not be
// resolved: 504 when the DNS servers did not answer in time (RFC 3261
// §21.5.5: no timely response from a server accessed to process the
// request), otherwise code with reason.
func resolveError(err error, code int, reason string) error {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return sipserver.Reject(504, "DNS Timeout", "")
	}
	return sipserver.Reject(code, reason, "")
}

// failLocked ends a branch that failed without a final response (a
// transport error, code 503, or Timer B/F, code 408), unless its target has
// another destination: RFC 3263 §4.3 then sends the request there as a new
// transaction. mu is held.
func (f *forker) failLocked(b *branch, code int) {
	if !f.failoverLocked(b, nil) {
		f.endLocked(b, code, nil)
	}
}

// failoverLocked queues the next destination of b's target when b failed in
// a way RFC 3263 §4.3 retries: a transport error or a timeout with no
// response at all (res nil; a branch that got a 1xx is not retried), or a
// 503 (res). The failed branch then ends with nothing recorded, and the
// retry runs as a new branch (a new Via branch, §4.3) once the current
// group of branches is done (see run). It reports whether it did; never
// after a 2xx, a 6xx or the caller's CANCEL. mu is held.
func (f *forker) failoverLocked(b *branch, res *sip.Message) bool {
	t := b.tgt
	if len(t.alt) == 0 || f.answered || f.stop || f.cancelled || b.done {
		return false
	}
	if res == nil && b.provisional || res != nil && res.StatusCode() != 503 {
		return false
	}
	f.p.log.Debug("trying the next destination", "failed", b.dest.Addr, "next", t.alt[0].Addr)
	t.dest, t.alt = t.alt[0], t.alt[1:]
	f.more = append(f.more, t)
	f.endLocked(b, 0, nil)
	return true
}

// systemResolver stands in when Config.Resolver is nil: IP addresses as is,
// names by the system's A/AAAA lookup; no NAPTR, no SRV, no failover.
type systemResolver struct{}

func (systemResolver) Resolve(ctx context.Context, t transport.Target) ([]transport.Dest, error) {
	proto := t.Proto
	switch {
	case proto == 0 && t.Secure:
		proto = transport.TLS
	case proto == 0:
		proto = transport.UDP
	case t.Secure && proto == transport.TCP:
		proto = transport.TLS
	}
	port := t.Port
	if port == 0 {
		port = defaultPort(proto)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.Host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no address", Name: t.Host, IsNotFound: true}
	}
	return []transport.Dest{{Proto: proto, Addr: netip.AddrPortFrom(addrs[0].Unmap(), uint16(port)), Host: t.Host}}, nil
}

// defaultPort is the port of a URI without one (RFC 3261 §19.1.2): 5061 for
// TLS and WSS, 5060 otherwise.
func defaultPort(p transport.Proto) int {
	if p.Secure() {
		return 5061
	}
	return 5060
}
