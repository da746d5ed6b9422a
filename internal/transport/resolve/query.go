package resolve

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxCNAME bounds how many CNAMEs an answer may chain through.
const maxCNAME = 8

// negativeTTL caches an NXDOMAIN or an empty answer that carries no SOA.
const negativeTTL = 30 * time.Second

// query asks the DNS servers one question, through the cache. It returns the
// records of type qtype for name (CNAMEs in the answer followed), which may
// be none. NXDOMAIN is an error with IsNotFound; servers that all fail to
// answer give an error with IsTimeout (when one timed out) or a server
// failure.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	name = dns.Fqdn(strings.ToLower(name))
	k := cacheKey{name, qtype}
	if a, ok := r.cache.get(k); ok {
		return a.result(name)
	}
	if r.serversErr != nil {
		return nil, &net.DNSError{Err: r.serversErr.Error(), Name: name}
	}
	msg, server, err := r.exchangeAny(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	a, ttl := parseAnswer(msg, name, qtype)
	r.cache.put(k, a, ttl)
	a2, err := a.result(name)
	if dnsErr, ok := err.(*net.DNSError); ok {
		dnsErr.Server = server
	}
	return a2, err
}

// result turns a cached or fresh answer into what query returns.
func (a answer) result(name string) ([]dns.RR, error) {
	if a.nxdomain {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return a.rrs, nil
}

// exchangeAny asks each server in turn until one gives an authoritative
// outcome (NOERROR or NXDOMAIN). A server that times out, fails or refuses
// is skipped.
func (r *Resolver) exchangeAny(ctx context.Context, name string, qtype uint16) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	timedOut, why := false, "server failure"
	for _, s := range r.servers {
		if ctx.Err() != nil {
			timedOut = true
			break
		}
		in, err := r.exchange(ctx, m, s)
		switch {
		case err != nil:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
				timedOut = true
			}
			why = err.Error()
		case in.Rcode == dns.RcodeSuccess || in.Rcode == dns.RcodeNameError:
			return in, s, nil
		default:
			why = "server answered " + dns.RcodeToString[in.Rcode]
		}
	}
	if timedOut {
		why = "timed out"
	}
	return nil, "", &net.DNSError{Err: why, Name: name, IsTimeout: timedOut, IsTemporary: true}
}

// exchange sends one query to one server over UDP, and again over TCP when
// the answer was truncated (RFC 1035 §4.2.1, RFC 7766).
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	c := dns.Client{Net: "udp", Timeout: r.cfg.Timeout}
	in, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, server)
	}
	return in, err
}

// parseAnswer extracts the records of qtype for name from msg, following the
// CNAME chain in the answer section, and says how long the outcome may be
// cached: the smallest TTL of the records used, or for a negative answer the
// SOA's (RFC 2308 §5), else negativeTTL.
func parseAnswer(msg *dns.Msg, name string, qtype uint16) (answer, time.Duration) {
	if msg.Rcode == dns.RcodeNameError {
		return answer{nxdomain: true}, negativeCacheTTL(msg)
	}
	var out []dns.RR
	var ttl uint32
	first := true
	use := func(rr dns.RR) {
		if first || rr.Header().Ttl < ttl {
			ttl, first = rr.Header().Ttl, false
		}
	}
	owner := name
	for hops := 0; hops <= maxCNAME; hops++ {
		next := ""
		for _, rr := range msg.Answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, owner) {
				continue
			}
			switch {
			case h.Rrtype == qtype:
				out = append(out, rr)
				use(rr)
			case h.Rrtype == dns.TypeCNAME && qtype != dns.TypeCNAME:
				next = rr.(*dns.CNAME).Target
				use(rr)
			}
		}
		if len(out) > 0 || next == "" {
			break
		}
		owner = next
	}
	if len(out) == 0 {
		return answer{}, negativeCacheTTL(msg)
	}
	return answer{rrs: out}, time.Duration(ttl) * time.Second
}

// negativeCacheTTL is the TTL of a negative answer: the smaller of the SOA's
// TTL and its MINIMUM field (RFC 2308 §5), or negativeTTL without a SOA.
func negativeCacheTTL(msg *dns.Msg) time.Duration {
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return negativeTTL
}
