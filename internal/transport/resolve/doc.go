// Package resolve locates SIP servers by RFC 3263 §4: NAPTR records choose
// the transport, SRV records the hosts and ports (ordered by priority and
// RFC 2782 weighted choice), A and AAAA records the addresses. It implements
// transport.Resolver, which the proxy uses for requests to other domains, to
// the outbound proxy, along Route headers and to gateways.
//
// # Why a DNS library
//
// Go's standard resolver has no NAPTR lookup and hides SRV TTLs and
// NXDOMAIN versus NODATA, all of which RFC 3263 needs. Queries are made with
// github.com/miekg/dns to the servers of the configuration (default: those
// of /etc/resolv.conf), each in turn, with a per-query timeout, over UDP
// and again over TCP when an answer is truncated.
//
// # Decisions
//
//   - Transport (§4.1): the URI's transport parameter; else UDP for a sip
//     URI and TLS for a sips URI when the host is an IP address or a port is
//     given; else the NAPTR records (SIP+D2U, SIP+D2T, SIPS+D2T, and
//     SIP+D2W, SIPS+D2W of RFC 7118) of the transports Parley can send on,
//     by order then preference, only SIPS services for a sips URI, flag "s"
//     only; else the SRV records "_sip._udp", "_sip._tcp" (sip) or
//     "_sips._tcp" (sips) in Parley's order of preference; else UDP (TLS).
//   - Address and port (§4.2): an IP address as is; a name with a port by
//     A/AAAA; otherwise the SRV records of the transport, and A/AAAA on
//     5060 (5061 for TLS) when there are none. IPv4 addresses come first.
//   - Failover (§4.3): every usable NAPTR record, SRV target and address is
//     returned, best first, up to 16 destinations; the proxy tries the next
//     when one fails with a transport error, a timeout without any response,
//     or a 503.
//   - Errors: NXDOMAIN for the domain ends the search at once (there is no
//     point asking for SRV or A records of a name that does not exist) and is
//     a *net.DNSError with IsNotFound; DNS servers that do not answer give
//     one with IsTimeout. For a foreign domain or a Route the proxy answers 404
//     and 504 DNS Timeout.
//   - Cache: answers, positive and negative, are kept for their TTL (the SOA
//     minimum for negative ones, RFC 2308 §5), at most dns.max_ttl and at
//     most dns.cache_size entries. A Resolver is built per configuration, so
//     a reload starts with an empty cache.
//
// # Configuration
//
//	dns:
//	  servers: ["127.0.0.1:5353"]   # default: the nameservers of /etc/resolv.conf
//	  timeout: 2s                   # per query and server
//	  cache_size: 1024              # answers; -1 disables the cache
//	  max_ttl: 5m0s                 # longest time an answer is cached
package resolve
