package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// DNS configures how Parley finds the servers of other domains, its outbound
// proxy, Route hops and gateways by RFC 3263 (NAPTR, SRV, A/AAAA).
type DNS struct {
	// Servers are the DNS servers asked, in order, as IP or IP:PORT (port
	// 53 when omitted; IPv6 as [::1]:53). Empty (the default): the
	// nameservers of /etc/resolv.conf.
	Servers []string `yaml:"servers"`
	// Timeout bounds one query to one server; then the next server is
	// asked. Default 2s; 10ms to 30s.
	Timeout Duration `yaml:"timeout"`
	// CacheSize is how many answers are cached, each for its TTL. Default
	// 1024; 0 disables the cache; at most 1000000.
	CacheSize int `yaml:"cache_size"`
	// MaxTTL bounds how long an answer is cached, whatever its TTL. Default
	// 5m; 1s to 24h.
	MaxTTL Duration `yaml:"max_ttl"`
}

// DefaultDNS returns the DNS defaults: the system's servers, 2s, 1024
// answers for at most 5 minutes.
func DefaultDNS() DNS {
	return DNS{Timeout: Duration(2 * time.Second), CacheSize: 1024, MaxTTL: Duration(5 * time.Minute)}
}

// Validate checks each server address (an IP address, since a name would
// need DNS to be found) and the ranges.
func (d DNS) Validate() error {
	var errs []error
	seen := map[netip.AddrPort]int{}
	for i, s := range d.Servers {
		path := "servers[" + strconv.Itoa(i) + "]"
		ap, err := dnsServer(s)
		if err != nil {
			errs = append(errs, fieldErr(path, err))
			continue
		}
		if j, dup := seen[ap]; dup {
			errs = append(errs, fieldErr(path, fmt.Errorf("%q repeats servers[%d]", s, j)))
		}
		seen[ap] = i
	}
	if d.Timeout < Duration(10*time.Millisecond) || d.Timeout > Duration(30*time.Second) {
		errs = append(errs, fieldErr("timeout", fmt.Errorf("%s out of range 10ms-30s", d.Timeout)))
	}
	if d.CacheSize < 0 || d.CacheSize > 1_000_000 {
		errs = append(errs, fieldErr("cache_size", fmt.Errorf("%d out of range 0-1000000", d.CacheSize)))
	}
	if d.MaxTTL < Duration(time.Second) || d.MaxTTL > Duration(24*time.Hour) {
		errs = append(errs, fieldErr("max_ttl", fmt.Errorf("%s out of range 1s-24h", d.MaxTTL)))
	}
	return errors.Join(errs...)
}

// dnsServer parses IP or IP:PORT (port 53 when omitted).
func dnsServer(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: want IP or IP:PORT, such as 127.0.0.1:53 or [::1]:53", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: the server must be an IP address, not a name", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return netip.AddrPort{}, fmt.Errorf("%q: port %q is not 1-65535", s, port)
	}
	return netip.AddrPortFrom(a, uint16(n)), nil
}
