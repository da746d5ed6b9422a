package transport

import (
	"net"
	"net/netip"
	"sync"
)

// ipLimiter counts open inbound connections per remote IP.
type ipLimiter struct {
	max int // <0: no limit

	mu sync.Mutex // leaf lock
	n  map[netip.Addr]int
}

func newIPLimiter(max int) *ipLimiter {
	return &ipLimiter{max: max, n: make(map[netip.Addr]int)}
}

// acquire counts one more connection from ip, or reports false if ip is
// at its limit.
func (lim *ipLimiter) acquire(ip netip.Addr) bool {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.max >= 0 && lim.n[ip] >= lim.max {
		return false
	}
	lim.n[ip]++
	return true
}

// release forgets one connection from ip.
func (lim *ipLimiter) release(ip netip.Addr) {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.n[ip] <= 1 {
		delete(lim.n, ip)
		return
	}
	lim.n[ip]--
}

// count returns the open connections from ip.
func (lim *ipLimiter) count(ip netip.Addr) int {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.n[ip]
}

// limitListener closes accepted connections from IPs over their limit
// before anything is read from them, and counts the rest until they close.
// It sits under TLS and HTTP so the limit covers connections still in
// their handshake.
type limitListener struct {
	net.Listener
	lim      *ipLimiter
	onRefuse func(ip netip.Addr)
}

// Accept returns the next connection whose IP is under its limit.
func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrPortOf(nc.RemoteAddr()).Addr()
		if ll.lim.acquire(ip) {
			return &countedConn{Conn: nc, lim: ll.lim, ip: ip}, nil
		}
		ll.onRefuse(ip) // counted before the close, so a peer that sees the close sees the count
		nc.Close()
	}
}

// countedConn releases its limiter slot on the first Close.
type countedConn struct {
	net.Conn
	lim  *ipLimiter
	ip   netip.Addr
	once sync.Once
}

// Close closes the connection and releases its slot.
func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.lim.release(c.ip) })
	return err
}

// limit wraps a bound TCP listener of proto p with the per-IP limit.
func (l *Layer) limit(ln net.Listener, p Proto) net.Listener {
	return &limitListener{Listener: ln, lim: l.ips, onRefuse: func(ip netip.Addr) {
		l.stats.of(p).refused.Add(1)
		l.log.Debug("transport: connection refused, per-IP limit", "proto", p, "ip", ip)
	}}
}
