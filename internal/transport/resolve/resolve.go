package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/parley-sip/parley/internal/transport"
)

// maxDests bounds the destinations one Resolve returns, so that failover
// (RFC 3263 §4.3) to a domain with many records stays bounded.
const maxDests = 16

// Resolver locates SIP servers by RFC 3263 §4 with NAPTR, SRV and A/AAAA
// queries sent to configured DNS servers.
type Resolver struct {
	cfg        Config
	servers    []string // IP:PORT
	serversErr error    // why there are no servers; names then fail with it
	cache      *cache

	rmu sync.Mutex // guards rnd
	rnd *rand.Rand // RFC 2782 weighted choice
}

var _ transport.Resolver = (*Resolver)(nil)

// New returns a Resolver. When no DNS server is configured and none can be
// read from the resolv.conf file, the Resolver still resolves IP addresses;
// names fail with the reason, which Err also returns.
func New(cfg Config) *Resolver {
	cfg = cfg.withDefaults()
	r := &Resolver{cfg: cfg, cache: newCache(cfg.CacheSize, cfg.MaxTTL),
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	r.servers, r.serversErr = cfg.servers()
	return r
}

// Err reports why the Resolver has no DNS servers, or nil.
func (r *Resolver) Err() error { return r.serversErr }

// Servers returns the DNS servers asked, as IP:PORT, in order.
func (r *Resolver) Servers() []string { return slices.Clone(r.servers) }

// Resolve returns the destinations for t in the order to try them
// (RFC 3263 §4.1 picks the transport, §4.2 the address and port):
//
//   - an IP address is used as is, with the URI's port or the transport's
//     default (5060, or 5061 for TLS);
//   - a name with a port is looked up by A/AAAA only;
//   - a name with a transport parameter but no port is looked up by SRV for
//     that transport, then A/AAAA;
//   - otherwise NAPTR records choose the transports (see naptrDests); when
//     there are none, SRV records of each supported transport do; when
//     there are none either, A/AAAA with UDP (TLS for sips) on the default
//     port.
//
// Without a transport parameter a sip URI uses UDP and a sips URI TLS
// (§4.1); a sips URI with transport=tcp or ws means TLS or WSS, and with
// transport=udp is an error (UDP cannot be secured).
func (r *Resolver) Resolve(ctx context.Context, t transport.Target) ([]transport.Dest, error) {
	proto, err := explicitProto(t)
	if err != nil {
		return nil, err
	}
	host := strings.TrimSuffix(strings.Trim(t.Host, "[]"), ".")
	if host == "" {
		return nil, &net.DNSError{Err: "empty host", Name: t.Host, IsNotFound: true}
	}
	if a, err := netip.ParseAddr(host); err == nil { // §4.1, §4.2: numeric IP
		if proto == 0 {
			proto = defaultProto(t.Secure)
		}
		return []transport.Dest{{Proto: proto, Addr: netip.AddrPortFrom(a.Unmap(), port(t.Port, proto)), Host: host}}, nil
	}
	var ds []transport.Dest
	switch {
	case t.Port != 0: // §4.2: a port means A/AAAA only
		if proto == 0 {
			proto = defaultProto(t.Secure)
		}
		ds, err = r.hostDests(ctx, host, host, t.Port, proto)
	case proto != 0: // §4.2: SRV for the given transport, then A/AAAA
		ds, err = r.srvOrHost(ctx, host, proto, t.Secure)
	default:
		ds, err = r.discover(ctx, host, t.Secure)
	}
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, &net.DNSError{Err: "no SIP server found", Name: host, IsNotFound: true}
	}
	return dedupe(ds), nil
}

// explicitProto returns the transport the URI asks for (0 for none),
// secured for a sips URI (§4.1; ws becomes wss in the same way).
func explicitProto(t transport.Target) (transport.Proto, error) {
	if !t.Secure {
		return t.Proto, nil
	}
	switch t.Proto {
	case 0, transport.TLS, transport.WSS:
		return t.Proto, nil
	case transport.TCP:
		return transport.TLS, nil
	case transport.WS:
		return transport.WSS, nil
	}
	return 0, fmt.Errorf("a sips URI cannot use transport %s", t.Proto)
}

func defaultProto(secure bool) transport.Proto {
	if secure {
		return transport.TLS
	}
	return transport.UDP
}

// port returns p, or the default port of proto (RFC 3261 §19.1.2).
func port(p int, proto transport.Proto) uint16 {
	if p != 0 {
		return uint16(p)
	}
	if proto.Secure() {
		return 5061
	}
	return 5060
}

// discover resolves a name with neither port nor transport: NAPTR first,
// then SRV for each supported transport, then A/AAAA (§4.1).
func (r *Resolver) discover(ctx context.Context, host string, secure bool) ([]transport.Dest, error) {
	ds, err := r.naptrDests(ctx, host, secure)
	if err != nil || len(ds) > 0 {
		return ds, err
	}
	ds, err = r.srvDests(ctx, host, secure)
	if err != nil || len(ds) > 0 {
		return ds, err
	}
	proto := defaultProto(secure)
	if !secure && !r.supports(transport.UDP) { // §4.1 says UDP; fall back to what we can send on
		proto = r.cfg.Transports[0]
	}
	return r.hostDests(ctx, host, host, 0, proto)
}

// supports reports whether the caller can send on p.
func (r *Resolver) supports(p transport.Proto) bool { return slices.Contains(r.cfg.Transports, p) }

// hostDests looks up the A and AAAA records of name (IPv4 first) and
// returns a Dest for each address, on port (or proto's default) and named
// host for TLS. A name with no address records yields none and no error.
func (r *Resolver) hostDests(ctx context.Context, host, name string, p int, proto transport.Proto) ([]transport.Dest, error) {
	addrs, err := r.addrs(ctx, name)
	if err != nil {
		return nil, err
	}
	ds := make([]transport.Dest, 0, len(addrs))
	for _, a := range addrs {
		ds = append(ds, transport.Dest{Proto: proto, Addr: netip.AddrPortFrom(a, port(p, proto)), Host: host})
	}
	return ds, nil
}

// dedupe drops repeated destinations, keeping the first, and caps the list.
func dedupe(ds []transport.Dest) []transport.Dest {
	type key struct {
		p transport.Proto
		a netip.AddrPort
	}
	seen := make(map[key]bool, len(ds))
	out := ds[:0]
	for _, d := range ds {
		k := key{d.Proto, d.Addr}
		if seen[k] || len(out) == maxDests {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

// isNotFound reports whether err says a name does not exist.
func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
