package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/parley-sip/parley/internal/transport"
)

// iface is one of our listeners as written in Via and Record-Route.
type iface struct {
	proto transport.Proto
	host  string // address or advertised name; IPv6 in brackets
	port  int
	local netip.AddrPort
}

// ifaceFor picks the listener to send to dst from: same transport and, where
// there is a choice, the same address family.
func (p *Proxy) ifaceFor(proto transport.Proto, dst netip.Addr) (iface, error) {
	var fallback *transport.Listener
	for _, ln := range p.tl.Listeners() {
		if ln.Proto() != proto {
			continue
		}
		a := ln.Addr().Addr().Unmap()
		if a.Is4() == dst.Unmap().Is4() || a.IsUnspecified() {
			i := p.ifaceOf(ln)
			if a.IsUnspecified() && p.cfg.Advertise == "" {
				i.host = p.localHost(dst) // a wildcard listener: name the interface that reaches dst
			}
			return i, nil
		}
		if fallback == nil {
			fallback = ln
		}
	}
	if fallback != nil {
		return p.ifaceOf(fallback), nil
	}
	return iface{}, fmt.Errorf("no %s listener", proto)
}

func (p *Proxy) ifaceOf(ln *transport.Listener) iface {
	a := ln.Addr()
	host := a.Addr().Unmap().String()
	if a.Addr().IsUnspecified() && p.cfg.Advertise != "" {
		host = p.cfg.Advertise
	} else if a.Addr().Unmap().Is6() {
		host = "[" + host + "]"
	}
	return iface{proto: ln.Proto(), host: host, port: int(a.Port()), local: a}
}

// via returns the Via value for a request leaving through i (§16.6 step 8).
func (i iface) via(branch string) []byte {
	return fmt.Appendf(nil, "SIP/2.0/%s %s:%d;branch=%s;rport", i.proto, i.host, i.port, branch)
}

// recordRoute returns a Record-Route value naming i, with the dialog's flows
// and their signature (§16.6 step 4, RFC 5658 for the double entry).
func (i iface) recordRoute(from, to, sig string) []byte {
	b := fmt.Appendf(nil, "<sip:%s:%d;transport=%s;lr;pf=%s;pt=%s;ps=%s>", i.host, i.port,
		strings.ToLower(i.proto.String()), from, to, sig)
	return b
}

// localHost returns the address of the interface the system would use to
// reach dst, as written in a Via (asked once per destination: a UDP connect
// sends nothing).
func (p *Proxy) localHost(dst netip.Addr) string {
	if v, ok := p.srcCache.Load(dst); ok {
		return v.(string)
	}
	host := "127.0.0.1"
	if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9))); err == nil {
		a := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		c.Close()
		host = a.String()
		if a.Is6() {
			host = "[" + host + "]"
		}
	}
	p.srcCache.Store(dst, host)
	return host
}
