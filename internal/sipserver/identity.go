package sipserver

import (
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// Identity says which hosts are Parley itself: the domains it serves, the
// advertised name and the addresses of its listeners.
type Identity struct {
	domains   atomic.Pointer[map[string]bool]
	advertise string
	tl        *transport.Layer
	local     map[netip.Addr]bool // addresses of this host, for wildcard listeners
}

// NewIdentity returns an Identity for the served domains (lowercase) and an
// advertised host (may be empty), with listener addresses read from tl.
func NewIdentity(domains []string, advertise string, tl *transport.Layer) *Identity {
	id := &Identity{advertise: strings.ToLower(advertise), tl: tl, local: hostAddrs()}
	id.SetDomains(domains)
	return id
}

// SetDomains replaces the served domains; requests see the new set at once.
func (id *Identity) SetDomains(domains []string) {
	m := make(map[string]bool, len(domains))
	for _, d := range domains {
		m[strings.ToLower(d)] = true
	}
	id.domains.Store(&m)
}

// Domains lists the served domains.
func (id *Identity) Domains() []string {
	var out []string
	for d := range *id.domains.Load() {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// IsDomain reports whether host is one of the served domains (case-insensitive).
func (id *Identity) IsDomain(host []byte) bool {
	doms := *id.domains.Load()
	if len(doms) == 0 {
		return false
	}
	var b [256]byte
	if len(host) > len(b) {
		return false
	}
	return doms[string(lower(b[:0], host))]
}

// IsSelf reports whether host (and port, 0 for default) names this server:
// a served domain, the advertised name, or a listener address.
func (id *Identity) IsSelf(host []byte, port int) bool {
	if id.IsDomain(host) && (port == 0 || id.hasPort(port, func(netip.Addr) bool { return true })) {
		return true // a served domain; with an explicit port, only one we listen on
	}
	h := string(host)
	if id.advertise != "" && strings.EqualFold(h, id.advertise) {
		return true
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return strings.EqualFold(h, "localhost") && id.hasPort(port, func(a netip.Addr) bool { return a.IsLoopback() || a.IsUnspecified() })
	}
	ip = ip.Unmap()
	return id.hasPort(port, func(a netip.Addr) bool {
		return a == ip || (a.IsUnspecified() && (ip.IsLoopback() || id.local[ip]) && a.Is4() == ip.Is4())
	})
}

func (id *Identity) hasPort(port int, match func(netip.Addr) bool) bool {
	if id.tl == nil {
		return false
	}
	for _, ln := range id.tl.Listeners() {
		a := ln.Addr()
		p := port
		if p == 0 {
			p = 5060
			if ln.Proto() == transport.TLS || ln.Proto() == transport.WSS {
				p = 5061
			}
		}
		if int(a.Port()) == p && match(a.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// IsForUs reports whether a request is addressed to Parley itself rather than
// to a user: its Request-URI has no user part and names this server (§16.4
// also treats a URI this proxy put in Record-Route as ours, handled by the proxy).
func (id *Identity) IsForUs(req *sip.Message) bool {
	u, err := sip.ParseURI(req.RequestURI())
	if err != nil || !u.IsSIP() || len(u.User) > 0 {
		return false
	}
	if _, lr := u.Param("lr"); lr {
		return false // one of our Record-Route URIs: a strict router sent it, the proxy fixes it (§16.4)
	}
	return id.IsSelf(u.Host, u.Port)
}

func lower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// hostAddrs lists the addresses of this host's interfaces.
func hostAddrs() map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			m[p.Addr().Unmap()] = true
		}
	}
	return m
}
