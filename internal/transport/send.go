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

// Send queues one message for dst and returns the connection used (0 for
// UDP). It never waits for the network beyond one UDP write: on a stream,
// data is copied onto the connection's send queue and written by that
// connection's writer goroutine, which dials first if needed.
//
// If dst.Conn is set and that connection is open, data goes on it whatever
// dst.Proto says (RFC 3261 §18.2.2: responses go back on the connection the
// request came on; RFC 5626 and RFC 7118 use the same connection for later
// requests). Otherwise, by dst.Proto: UDP is sent from a UDP listener (see
// udpListenerFor); TCP and TLS reuse an open connection to dst.Addr or open
// one, which is then read from like an accepted one; WS and WSS reuse an
// open connection or fail with ErrNoConnection, since a server does not
// dial browsers.
//
// An error returned is known at once (no listener, no connection, queue
// full, Layer closed). A stream message that is queued but then not written
// (the dial fails within DialTimeout, plus HandshakeTimeout for TLS; a write
// fails or exceeds WriteTimeout; the connection closes first) is reported
// to Config.OnSendError instead. Send is safe for concurrent use; messages
// on one connection are written whole, in the order they were queued.
func (l *Layer) Send(dst Dest, data []byte) (ConnID, error) {
	if dst.Conn != 0 {
		if c := l.connByID(dst.Conn); c != nil {
			return c.id, l.enqueue(c, data)
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
		return c.id, l.enqueue(c, data)
	case WS, WSS:
		c := l.connByAddr(connKey{dst.Proto, unmap(dst.Addr)})
		if c == nil {
			return 0, ErrNoConnection
		}
		return c.id, l.enqueue(c, data)
	}
	return 0, fmt.Errorf("transport: send: invalid protocol %v", dst.Proto)
}

// connByAddr returns the open connection for k, or nil.
func (l *Layer) connByAddr(k connKey) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byAddr[k]
}

// streamConn returns the TCP or TLS connection to dst.Addr: an open one, one
// being dialed, or a new one whose writer goroutine dials it. Concurrent
// first sends to one destination share one connection.
func (l *Layer) streamConn(dst Dest) (*conn, error) {
	k := connKey{dst.Proto, unmap(dst.Addr)}
	if !k.addr.IsValid() {
		return nil, fmt.Errorf("transport: send: %v destination address not set", dst.Proto)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if c := l.byAddr[k]; c != nil {
		return c, nil
	}
	c := l.newConn(dst.Proto, nil, k.addr, netip.AddrPort{})
	d := dst
	c.dial = &d
	l.insertLocked(c)
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
