package transport

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"
)

// listenUDP binds ln's UDP socket and returns its read loop.
func (l *Layer) listenUDP(ln *Listener) (func(), error) {
	s := ln.spec
	addr, err := net.ResolveUDPAddr(network("udp", s.Host), s.hostPort())
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP(network("udp", s.Host), addr)
	if err != nil {
		return nil, err
	}
	if n := l.cfg.UDPRecvBuffer; n > 0 {
		if err := uc.SetReadBuffer(n); err != nil {
			l.log.Warn("transport: cannot set the UDP receive buffer", "listener", s.String(), "bytes", n, "err", err)
		}
	}
	ln.udp = uc
	ln.addr = addrPortOf(uc.LocalAddr())
	return func() { l.serveUDP(ln) }, nil
}

// serveUDP reads datagrams until the socket is closed. The read path does
// not allocate: one buffer, one Packet, reused for every datagram. The
// buffer has one spare byte so that an oversize datagram is detected rather
// than silently truncated.
func (l *Layer) serveUDP(ln *Listener) {
	buf := make([]byte, l.cfg.MaxMessageSize+1)
	pkt := new(Packet)
	errs := 0
	for {
		n, src, err := ln.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || !l.udpReadError(ln, err, &errs) {
				return
			}
			continue
		}
		errs = 0
		l.handleDatagram(ln, pkt, buf[:n:n], src)
	}
}

// udpReadError logs a read error and backs off so that a persistent error
// does not spin; it reports false when the Layer is closing.
func (l *Layer) udpReadError(ln *Listener, err error, errs *int) bool {
	*errs++
	l.log.Warn("transport: UDP read error", "listener", ln.String(), "err", err)
	return l.sleepCtx(min(time.Duration(*errs)*10*time.Millisecond, time.Second))
}

// handleDatagram classifies one datagram and delivers it if it may be SIP.
func (l *Layer) handleDatagram(ln *Listener, pkt *Packet, data []byte, src netip.AddrPort) {
	st := l.stats.of(UDP)
	switch {
	case len(data) > l.cfg.MaxMessageSize:
		st.oversize.Add(1)
	case isKeepalive(data):
		// RFC 5626 §4.4: CRLF keepalives need no answer on UDP.
		st.keepalives.Add(1)
	case !startsLikeSIP(data):
		st.garbage.Add(1)
	default:
		st.in.Add(1)
		*pkt = Packet{Data: data, Source: unmap(src), Local: ln.addr, Proto: UDP, Listener: ln}
		l.deliver(pkt)
	}
}

// isKeepalive reports whether data is empty or only CR and LF bytes.
func isKeepalive(data []byte) bool {
	for _, b := range data {
		if b != '\r' && b != '\n' {
			return false
		}
	}
	return true
}

// startsLikeSIP is the cheap accept check: a request starts with a method
// token and a response with "SIP/2.0", so the first byte is a letter
// (RFC 3261 §7.1, §7.2). It rejects STUN, RTP and other binary strays.
func startsLikeSIP(data []byte) bool {
	c := data[0]
	if c|0x20 >= 'a' && c|0x20 <= 'z' {
		return true
	}
	// A method is a token (RFC 3261 §25.1), so it may start with one of these
	// (RFC 4475 §3.1.1.2). STUN (0x00/0x01), TLS (0x16) and RTP (>= 0x80) do not.
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// sendUDP writes one datagram from the best UDP listener for dst.
func (l *Layer) sendUDP(dst Dest, data []byte) error {
	to := unmap(dst.Addr)
	if !to.IsValid() {
		return errors.New("transport: send: UDP destination address not set")
	}
	ln := l.udpListenerFor(to.Addr(), unmap(dst.Local))
	if ln == nil {
		return ErrNoListener
	}
	if l.cfg.Tap != nil {
		l.cfg.Tap(false, UDP, ln.addr, to, data)
	}
	if _, err := ln.udp.WriteToUDPAddrPort(data, to); err != nil {
		return err
	}
	l.stats.of(UDP).out.Add(1)
	return nil
}

// udpListenerFor picks the UDP listener to send to dst from: the one bound
// to local if any, else the first of dst's address family, else, for an
// IPv4 dst, a dual-stack one (listen spec with an empty host).
func (l *Layer) udpListenerFor(dst netip.Addr, local netip.AddrPort) *Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	var best *Listener
	bestScore := 0
	for _, ln := range l.listeners {
		if s := udpScore(ln, dst, local); s > bestScore {
			best, bestScore = ln, s
		}
	}
	return best
}

// udpScore ranks ln as a source for dst; 0 means unusable.
func udpScore(ln *Listener, dst netip.Addr, local netip.AddrPort) int {
	if ln.udp == nil {
		return 0
	}
	a := ln.addr.Addr()
	sameFamily := a.Is4() == dst.Is4()
	// An empty host binds a dual-stack socket; "::" binds IPv6 only.
	dualStack := ln.spec.Host == "" && a.Is6() && a.IsUnspecified()
	switch {
	case !sameFamily && !dualStack:
		return 0
	case local.IsValid() && ln.addr == local:
		return 4
	case local.IsValid() && a == local.Addr():
		return 3
	case sameFamily:
		return 2
	}
	return 1
}
