package resolve

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
)

// Config configures a Resolver. The zero value is usable: the DNS servers
// of /etc/resolv.conf, 2s per query, a cache of 1024 answers kept at most 5
// minutes, UDP, TCP and TLS.
type Config struct {
	// Servers are the DNS servers to ask, as IP or IP:PORT (port 53 when
	// omitted), tried in order. Empty: the nameservers of ResolvConf.
	Servers []string
	// ResolvConf is read when Servers is empty. Default /etc/resolv.conf.
	ResolvConf string
	// Timeout bounds one query to one server; a server that does not answer
	// in time is skipped for the next. Default 2s.
	Timeout time.Duration
	// CacheSize is how many answers (positive or negative) are cached,
	// each for its TTL bounded by MaxTTL. 0 means the default, 1024;
	// negative disables the cache.
	CacheSize int
	// MaxTTL bounds how long an answer is cached, whatever its TTL says.
	// Default 5m.
	MaxTTL time.Duration
	// Transports are the transports the caller can send on, in the order
	// it prefers them when the DNS leaves the choice to it (RFC 3263 §4.1:
	// NAPTR services of other transports are discarded, SRV queries are
	// made for these only). Default UDP, TCP, TLS.
	Transports []transport.Proto
}

// Defaults of Config.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultCacheSize  = 1024
	DefaultMaxTTL     = 5 * time.Minute
	DefaultResolvConf = "/etc/resolv.conf"
)

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	if c.ResolvConf == "" {
		c.ResolvConf = DefaultResolvConf
	}
	if len(c.Transports) == 0 {
		c.Transports = []transport.Proto{transport.UDP, transport.TCP, transport.TLS}
	}
	return c
}

// ServerAddr checks a DNS server given as IP or IP:PORT and returns it as
// IP:PORT, with port 53 when none was given.
func ServerAddr(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not IP or IP:PORT", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("%q: the server must be an IP address, not a name", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port must be between 1 and 65535", s)
	}
	return netip.AddrPortFrom(a, uint16(n)).String(), nil
}

// servers returns the configured servers as IP:PORT, or those of the
// resolv.conf file when none are configured.
func (c Config) servers() ([]string, error) {
	list := c.Servers
	port := "53"
	if len(list) == 0 {
		rc, err := dns.ClientConfigFromFile(c.ResolvConf)
		if err != nil {
			return nil, fmt.Errorf("no DNS servers configured and %w", err)
		}
		list, port = rc.Servers, rc.Port
	}
	var out []string
	for _, s := range list {
		if _, err := netip.ParseAddr(s); err == nil && len(c.Servers) == 0 {
			s = net.JoinHostPort(s, port)
		}
		a, err := ServerAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("no DNS servers configured, and none in " + c.ResolvConf)
	}
	return out, nil
}
