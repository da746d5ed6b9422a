package transport

import "sync/atomic"

// ProtoStats holds the counters of one transport protocol. All are totals
// since New except ConnsOpen, which is a gauge.
type ProtoStats struct {
	MessagesIn      uint64 // SIP messages delivered to the handler
	MessagesOut     uint64 // SIP messages written by Send
	KeepalivesIn    uint64 // CRLF pings, pongs and keepalive datagrams received
	DroppedOversize uint64 // messages or headers over the size limits
	DroppedGarbage  uint64 // datagrams that are not SIP, framing errors on streams
	ConnsOpen       uint64 // connections open now (registered in the table)
	ConnsAccepted   uint64 // inbound connections registered
	ConnsDialed     uint64 // outbound connections registered
	ConnsRefused    uint64 // accepts closed at once by MaxConnsPerIP
	HandshakeFails  uint64 // TLS handshakes, WS upgrades and dials that failed
	SendQueueFull   uint64 // messages Send dropped because the connection's queue was full
	SendErrors      uint64 // messages queued but not written (dial or write failed, closed first)
}

// Stats is a snapshot of a Layer's counters.
type Stats struct {
	UDP, TCP, TLS, WS, WSS ProtoStats

	CertReloads      uint64 // certificate pairs loaded after the first
	CertReloadErrors uint64 // changed certificate files that did not load
}

// For returns the counters of p (zero for an invalid p).
func (s Stats) For(p Proto) ProtoStats {
	if ps := s.slot(p); ps != nil {
		return *ps
	}
	return ProtoStats{}
}

// slot returns the counters of p, or nil if p is not valid.
func (s *Stats) slot(p Proto) *ProtoStats {
	switch p {
	case UDP:
		return &s.UDP
	case TCP:
		return &s.TCP
	case TLS:
		return &s.TLS
	case WS:
		return &s.WS
	case WSS:
		return &s.WSS
	}
	return nil
}

// protoCounters is the live, atomic form of ProtoStats.
type protoCounters struct {
	in, out, keepalives, oversize, garbage atomic.Uint64
	open                                   atomic.Int64
	accepted, dialed, refused, handshake   atomic.Uint64
	queueFull, sendErrors                  atomic.Uint64
}

// counters holds every counter of a Layer; index by Proto.
type counters struct {
	p                       [numProtos]protoCounters
	certReloads, certErrors atomic.Uint64
}

func (c *counters) of(p Proto) *protoCounters { return &c.p[p] }

// snapshot copies the counters into a Stats.
func (c *counters) snapshot() Stats {
	s := Stats{CertReloads: c.certReloads.Load(), CertReloadErrors: c.certErrors.Load()}
	for p := UDP; p <= WSS; p++ {
		pc := &c.p[p]
		*s.slot(p) = ProtoStats{
			MessagesIn:      pc.in.Load(),
			MessagesOut:     pc.out.Load(),
			KeepalivesIn:    pc.keepalives.Load(),
			DroppedOversize: pc.oversize.Load(),
			DroppedGarbage:  pc.garbage.Load(),
			ConnsOpen:       uint64(max(pc.open.Load(), 0)),
			ConnsAccepted:   pc.accepted.Load(),
			ConnsDialed:     pc.dialed.Load(),
			ConnsRefused:    pc.refused.Load(),
			HandshakeFails:  pc.handshake.Load(),
			SendQueueFull:   pc.queueFull.Load(),
			SendErrors:      pc.sendErrors.Load(),
		}
	}
	return s
}
