package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
)

// Dest says where Send writes a message.
type Dest struct {
	Proto Proto
	Addr  netip.AddrPort // remote address; IPv4-mapped addresses are unmapped
	Conn  ConnID         // preferred connection, e.g. Packet.Conn of the request
	Host  string         // TLS server name for a dialed connection (RFC 3261 §26.3.1)
	Local netip.AddrPort // preferred local address (UDP listener, or source IP to dial from)
}

// dialCall is a dial in flight; concurrent Sends to the same destination
// wait for it instead of dialing again.
type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// Send writes one message to dst and returns the connection used (0 for UDP).
//
// If dst.Conn is set and that connection is open, data goes on it whatever
// dst.Proto says (RFC 3261 §18.2.2: responses go back on the connection the
// request came on; RFC 5626 and RFC 7118 use the same connection for later
// requests). Otherwise, by dst.Proto: UDP is sent from a UDP listener (see
// udpListenerFor); TCP and TLS reuse an open connection to dst.Addr or dial
// one, which is then read from like an accepted one; WS and WSS reuse an
// open connection or fail with ErrNoConnection, since a server does not
// dial browsers. Dialing blocks for up to DialTimeout (plus
// HandshakeTimeout for TLS). Send is safe for concurrent use; messages on
// one connection are written whole, never interleaved.
func (l *Layer) Send(dst Dest, data []byte) (ConnID, error) {
	if dst.Conn != 0 {
		if c := l.connByID(dst.Conn); c != nil {
			return c.id, l.sendOn(c, data)
		}
		if dst.Proto == 0 {
			return 0, ErrNoConnection
		}
	}
	switch dst.Proto {
	case UDP:
		return 0, l.sendUDP(dst, data)
	case TCP, TLS:
		c, err := l.streamConn(dst)
		if err != nil {
			return 0, err
		}
		return c.id, l.sendOn(c, data)
	case WS, WSS:
		c := l.connByAddr(connKey{dst.Proto, unmap(dst.Addr)})
		if c == nil {
			return 0, ErrNoConnection
		}
		return c.id, l.sendOn(c, data)
	}
	return 0, fmt.Errorf("transport: send: invalid protocol %v", dst.Proto)
}

// sendOn writes data on c and counts it.
func (l *Layer) sendOn(c *conn, data []byte) error {
	if l.cfg.Tap != nil {
		l.cfg.Tap(false, c.proto, c.local, c.remote, data)
	}
	if err := c.write(data); err != nil {
		return fmt.Errorf("transport: send on %v conn %d: %w", c.proto, c.id, err)
	}
	l.stats.of(c.proto).out.Add(1)
	return nil
}

// connByAddr returns the open connection for k, or nil.
func (l *Layer) connByAddr(k connKey) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byAddr[k]
}

// streamConn returns an open TCP or TLS connection to dst.Addr, dialing one
// if there is none. Only one dial per destination is in flight at a time.
func (l *Layer) streamConn(dst Dest) (*conn, error) {
	k := connKey{dst.Proto, unmap(dst.Addr)}
	if !k.addr.IsValid() {
		return nil, fmt.Errorf("transport: send: %v destination address not set", dst.Proto)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	if c := l.byAddr[k]; c != nil {
		l.mu.Unlock()
		return c, nil
	}
	if d := l.dials[k]; d != nil {
		l.mu.Unlock()
		<-d.done
		return d.c, d.err
	}
	d := &dialCall{done: make(chan struct{})}
	l.dials[k] = d
	l.mu.Unlock()

	d.c, d.err = l.dial(dst, k.addr)
	l.mu.Lock()
	delete(l.dials, k)
	l.mu.Unlock()
	close(d.done)
	return d.c, d.err
}

// dial opens, registers and starts reading a new connection to addr.
func (l *Layer) dial(dst Dest, addr netip.AddrPort) (*conn, error) {
	timeout := l.cfg.DialTimeout
	if dst.Proto == TLS {
		timeout += l.cfg.HandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	nc, err := l.dialContext(ctx, dst, addr)
	if err != nil {
		l.stats.of(dst.Proto).handshake.Add(1)
		return nil, fmt.Errorf("transport: dial %v %v: %w", dst.Proto, addr, err)
	}
	c := l.newConn(dst.Proto, nil, addrPortOf(nc.RemoteAddr()), addrPortOf(nc.LocalAddr()))
	c.nc = nc
	if !l.register(c, true, func() { l.serveStream(c) }) {
		nc.Close()
		return nil, ErrClosed
	}
	return c, nil
}

// dialContext connects, from dst.Local's IP if given, and for TLS
// completes the handshake.
func (l *Layer) dialContext(ctx context.Context, dst Dest, addr netip.AddrPort) (net.Conn, error) {
	d := &net.Dialer{Timeout: l.cfg.DialTimeout}
	if ip := dst.Local.Addr().Unmap(); ip.IsValid() && !ip.IsUnspecified() && ip.Is4() == addr.Addr().Is4() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
	}
	if dst.Proto != TLS {
		return d.DialContext(ctx, "tcp", addr.String())
	}
	td := &tls.Dialer{NetDialer: d, Config: l.clientTLS(dst.Host)}
	return td.DialContext(ctx, "tcp", addr.String())
}

// clientTLS returns the TLS config for a dial to host (RFC 3261 §26.3.1:
// the certificate must match the domain being contacted).
func (l *Layer) clientTLS(host string) *tls.Config {
	cfg := &tls.Config{}
	if l.cfg.TLSClientConfig != nil {
		cfg = l.cfg.TLSClientConfig.Clone()
	}
	if host != "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}
