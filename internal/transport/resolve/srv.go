package resolve

import (
	"cmp"
	"context"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
)

// srvName returns the SRV owner name prefix of proto (RFC 3263 §4.1: "_sips"
// for TLS, "_sip" otherwise), or "" for the WebSocket transports, which have
// no SRV service of their own.
func srvName(proto transport.Proto) string {
	switch proto {
	case transport.UDP:
		return "_sip._udp."
	case transport.TCP:
		return "_sip._tcp."
	case transport.TLS:
		return "_sips._tcp."
	}
	return ""
}

// srvDests is the SRV step without NAPTR records (§4.1): for each transport
// the caller supports, in its order of preference, the SRV records of
// "_sip" (sip URI) or "_sips" (sips URI). A sip URI queries only "_sip"
// services, so it gets no TLS here.
func (r *Resolver) srvDests(ctx context.Context, host string, secure bool) ([]transport.Dest, error) {
	var out []transport.Dest
	for _, p := range r.cfg.Transports {
		if p.Secure() != secure || srvName(p) == "" {
			continue
		}
		ds, err := r.srvResolve(ctx, host, srvName(p)+host, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// srvOrHost resolves a name whose URI gave the transport but no port
// (§4.2): SRV records of that transport, else A/AAAA on the default port.
func (r *Resolver) srvOrHost(ctx context.Context, host string, proto transport.Proto, secure bool) ([]transport.Dest, error) {
	if name := srvName(proto); name != "" {
		ds, err := r.srvResolve(ctx, host, name+host, proto)
		if err != nil || len(ds) > 0 {
			return ds, err
		}
	}
	return r.hostDests(ctx, host, host, 0, proto)
}

// srvResolve looks up the SRV records of name and the addresses of their
// targets, in RFC 2782 order, as destinations on proto. A missing name gives
// no destinations and no error; so does a target without addresses, which is
// skipped. Only a DNS failure (a timeout) is an error, and only when no
// target could be resolved.
func (r *Resolver) srvResolve(ctx context.Context, host, name string, proto transport.Proto) ([]transport.Dest, error) {
	rrs, err := r.query(ctx, name, dns.TypeSRV)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []transport.Dest
	var lastErr error
	for _, s := range r.orderSRV(rrs) {
		ds, err := r.hostDests(ctx, host, s.Target, int(s.Port), proto)
		if err != nil && !isNotFound(err) {
			lastErr = err
		}
		out = append(out, ds...)
	}
	if len(out) == 0 && lastErr != nil {
		return nil, lastErr
	}
	return out, nil
}

// orderSRV sorts SRV records by priority, lowest first, and within one
// priority by RFC 2782's weighted random selection. A record whose target is
// "." says the service is not offered there and is dropped (RFC 2782).
func (r *Resolver) orderSRV(rrs []dns.RR) []*dns.SRV {
	var srvs []*dns.SRV
	for _, rr := range rrs {
		if s, ok := rr.(*dns.SRV); ok && s.Target != "." {
			srvs = append(srvs, s)
		}
	}
	slices.SortStableFunc(srvs, func(a, b *dns.SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]*dns.SRV, 0, len(srvs))
	for i := 0; i < len(srvs); {
		j := i
		for j < len(srvs) && srvs[j].Priority == srvs[i].Priority {
			j++
		}
		out = append(out, r.weighted(slices.Clone(srvs[i:j]))...)
		i = j
	}
	return out
}

// weighted orders records of one priority (RFC 2782, "Usage rules"): put
// those of weight 0 first, draw a number uniformly in [0, sum of weights],
// take the first record whose running sum of weights reaches it, and repeat
// with the rest.
func (r *Resolver) weighted(group []*dns.SRV) []*dns.SRV {
	out := make([]*dns.SRV, 0, len(group))
	for len(group) > 0 {
		slices.SortStableFunc(group, func(a, b *dns.SRV) int {
			return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1))
		})
		sum := 0
		for _, s := range group {
			sum += int(s.Weight)
		}
		x, run, pick := r.intN(sum+1), 0, len(group)-1
		for i, s := range group {
			run += int(s.Weight)
			if run >= x {
				pick = i
				break
			}
		}
		out = append(out, group[pick])
		group = slices.Delete(group, pick, pick+1)
	}
	return out
}

// intN returns a uniform random number in [0, n).
func (r *Resolver) intN(n int) int {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return r.rnd.IntN(n)
}

// addrs returns the IPv4 then IPv6 addresses of name. A name that does not
// exist is an error with IsNotFound; a name with neither A nor AAAA records
// gives none. A failed AAAA query is ignored when there are IPv4 addresses.
func (r *Resolver) addrs(ctx context.Context, name string) ([]netip.Addr, error) {
	v4, err := r.query(ctx, name, dns.TypeA)
	if err != nil {
		return nil, err
	}
	v6, err6 := r.query(ctx, name, dns.TypeAAAA)
	if err6 != nil && len(v4) == 0 {
		return nil, err6
	}
	var out []netip.Addr
	for _, rr := range append(v4, v6...) {
		switch a := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(a.AAAA); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}
