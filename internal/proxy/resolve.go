package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// resolve finds where to send a request for uri (RFC 3263 §4, simplified: a
// transport parameter or the sips scheme picks the transport, else UDP; an
// explicit port or an IP address is used as is; otherwise SRV records
// _sip._udp / _sip._tcp / _sips._tcp, then A/AAAA). The standard resolver
// cannot ask for NAPTR records, so that step is skipped.
func resolve(ctx context.Context, uri []byte) (transport.Dest, error) {
	u, err := sip.ParseURI(uri)
	if err != nil || !u.IsSIP() {
		return transport.Dest{}, fmt.Errorf("cannot route to %q", uri)
	}
	proto := transport.UDP
	if u.IsSecure() {
		proto = transport.TLS
	}
	if t, ok := u.Param("transport"); ok {
		if p, ok := transport.ParseProto(string(t)); ok {
			proto = p
			if u.IsSecure() && p == transport.TCP {
				proto = transport.TLS
			}
		}
	}
	host := string(u.Host)
	if m, ok := u.Param("maddr"); ok && len(m) > 0 {
		host = string(m)
	}
	host = strings.Trim(host, "[]")
	port := u.Port
	if a, err := netip.ParseAddr(host); err == nil {
		if port == 0 {
			port = defaultPort(proto)
		}
		return transport.Dest{Proto: proto, Addr: netip.AddrPortFrom(a.Unmap(), uint16(port)), Host: host}, nil
	}
	return lookup(ctx, proto, host, port)
}

func defaultPort(p transport.Proto) int {
	if p == transport.TLS || p == transport.WSS {
		return 5061
	}
	return 5060
}

// lookup resolves a host name by SRV (when no port was given) and A/AAAA.
func lookup(ctx context.Context, proto transport.Proto, host string, port int) (transport.Dest, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	target := host
	if port == 0 {
		service, netw := "sip", "udp"
		switch proto {
		case transport.TCP:
			netw = "tcp"
		case transport.TLS:
			service, netw = "sips", "tcp"
		}
		if _, srvs, err := net.DefaultResolver.LookupSRV(ctx, service, netw, host); err == nil && len(srvs) > 0 {
			target, port = strings.TrimSuffix(srvs[0].Target, "."), int(srvs[0].Port)
		} else {
			port = defaultPort(proto)
		}
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", target)
	if err != nil || len(addrs) == 0 {
		return transport.Dest{}, fmt.Errorf("cannot resolve %s: %v", target, err)
	}
	return transport.Dest{Proto: proto, Addr: netip.AddrPortFrom(addrs[0].Unmap(), uint16(port)), Host: host}, nil
}
