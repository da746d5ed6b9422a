package resolve

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
)

// naptrService returns the transport of a NAPTR service field of RFC 3263
// §4.1 (or of the WebSocket ones RFC 7118 registers), ignoring case. SCTP
// (D2S) is not supported.
func naptrService(s string) (transport.Proto, bool) {
	switch strings.ToUpper(s) {
	case "SIP+D2U":
		return transport.UDP, true
	case "SIP+D2T":
		return transport.TCP, true
	case "SIPS+D2T":
		return transport.TLS, true
	case "SIP+D2W":
		return transport.WS, true
	case "SIPS+D2W":
		return transport.WSS, true
	}
	return 0, false
}

// naptrDests is the NAPTR step of §4.1. It keeps the records whose service
// is a transport the caller supports (only SIPS services for a sips URI),
// whose flag is "s" (the replacement is an SRV name) and that have no
// regular expression; orders them by order, then preference (RFC 3403 §4.1);
// and resolves each replacement's SRV records in turn. Destinations of every
// usable record are returned, best first, so that failover (§4.3) can move
// on to the next transport. A name that does not exist is an error with
// IsNotFound; a name without usable NAPTR records gives none.
func (r *Resolver) naptrDests(ctx context.Context, host string, secure bool) ([]transport.Dest, error) {
	rrs, err := r.query(ctx, host, dns.TypeNAPTR)
	if err != nil {
		return nil, err
	}
	type rule struct {
		n     *dns.NAPTR
		proto transport.Proto
	}
	var rules []rule
	for _, rr := range rrs {
		n, ok := rr.(*dns.NAPTR)
		if !ok || !strings.EqualFold(n.Flags, "s") || n.Regexp != "" || n.Replacement == "." {
			continue
		}
		p, ok := naptrService(n.Service)
		if !ok || !r.supports(p) || secure && !p.Secure() {
			continue
		}
		rules = append(rules, rule{n, p})
	}
	slices.SortStableFunc(rules, func(a, b rule) int {
		return cmp.Or(cmp.Compare(a.n.Order, b.n.Order), cmp.Compare(a.n.Preference, b.n.Preference))
	})
	var out []transport.Dest
	var lastErr error
	for _, ru := range rules {
		ds, err := r.srvResolve(ctx, host, ru.n.Replacement, ru.proto)
		if err != nil {
			lastErr = err
			continue
		}
		out = append(out, ds...)
	}
	if len(out) == 0 && lastErr != nil {
		return nil, lastErr
	}
	return out, nil
}
