package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ConnID names one connection. IDs are never reused within a Layer, and a
// Layer's IDs start at a random point (see connIDBase) so that an ID stored
// with a registration does not name another client's connection after a
// restart; 0 means "no connection" (UDP). IDs stay below 2^63, so they fit a
// signed 64-bit database column.
type ConnID uint64

// Bounds of the random first connection ID: the start is drawn from
// [connIDMin, connIDMax), leaving 2^62 IDs before 2^63 is reached.
const (
	connIDMin = 1 << 32
	connIDMax = 1 << 62
)

// connIDBase returns a random counter start for a new Layer. Two runs reuse
// an ID only if their starts fall within the number of connections either
// opened of each other: for runs that open a billion connections each, a
// probability of about 2^31/2^62 = 2^-31.
func connIDBase() uint64 { return connIDMin + rand.Uint64N(connIDMax-connIDMin) }

// Packet is one SIP message as received.
//
// Data holds exactly one message: a datagram (RFC 3261 §18.3), a message
// cut from a stream by its Content-Length (§18.3), or one WebSocket message
// (RFC 7118 §5). Data and the Packet itself are reused once the handler
// returns, so the handler must copy what it keeps. It may modify Data in
// place; appending to Data never overwrites a following message.
type Packet struct {
	Data     []byte
	Source   netip.AddrPort // remote address, IPv4 unmapped
	Local    netip.AddrPort // bound address of the UDP listener (may be unspecified), or local end of the connection
	Proto    Proto
	Conn     ConnID    // 0 for UDP
	Listener *Listener // nil for messages on connections this Layer dialed
}

// Handler receives every SIP message. HandlePacket is called from one
// goroutine per UDP socket and per connection: messages from one connection
// arrive in order, and a handler that blocks holds up only its own socket or
// connection. A panic is recovered and logged.
type Handler interface {
	HandlePacket(p *Packet)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(p *Packet)

// HandlePacket calls f(p).
func (f HandlerFunc) HandlePacket(p *Packet) { f(p) }

// Errors returned by Listen and Send.
var (
	ErrClosed       = errors.New("transport: layer closed")
	ErrNoConnection = errors.New("transport: no open connection to destination")
	ErrNoListener   = errors.New("transport: no UDP listener for destination address family")
)

// Layer owns the listeners and connections of one SIP server. Its methods
// are safe for concurrent use.
type Layer struct {
	cfg   Config
	h     Handler
	log   *slog.Logger
	stats counters
	ips   *ipLimiter
	epoch time.Time // base of conn activity stamps (monotonic)
	ids   atomic.Uint64

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Layer starts

	certMu sync.Mutex
	certs  *certStore // created by the first tls or wss Listen; guarded by certMu

	mu        sync.Mutex // guards the fields below; never held during I/O
	closed    bool
	listeners []*Listener
	conns     map[ConnID]*conn
	byAddr    map[connKey]*conn
}

// New returns a Layer that delivers received messages to h. Zero Config
// fields take their defaults; a nil log discards.
func New(cfg Config, h Handler, log *slog.Logger) *Layer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if h == nil {
		h = HandlerFunc(func(*Packet) {})
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	l := &Layer{
		cfg: cfg, h: h, log: log,
		ips:   newIPLimiter(cfg.MaxConnsPerIP),
		epoch: time.Now(),
		ctx:   ctx, cancel: cancel,
		conns:  make(map[ConnID]*conn),
		byAddr: make(map[connKey]*conn),
	}
	l.ids.Store(connIDBase())
	return l
}

// Listener is one bound socket: a UDP socket, or a TCP socket accepting
// TCP, TLS, WS or WSS connections.
type Listener struct {
	layer *Layer
	spec  Spec
	addr  netip.AddrPort
	udp   *net.UDPConn // UDP
	ln    net.Listener // the bound TCP listener of TCP, TLS, WS and WSS
	srv   *http.Server // WS and WSS
}

// Proto returns the listener's transport.
func (ln *Listener) Proto() Proto { return ln.spec.Proto }

// Addr returns the address actually bound (with the real port when the
// spec asked for port 0).
func (ln *Listener) Addr() netip.AddrPort { return ln.addr }

// Spec returns the spec the listener was created from, as parsed.
func (ln *Listener) Spec() Spec { return ln.spec }

// String returns "proto:addr[/path]" with the bound address.
func (ln *Listener) String() string {
	s := ln.spec
	s.Host, s.Port = ln.addr.Addr().String(), int(ln.addr.Port())
	return s.String()
}

// close closes the socket and, for WS and WSS, the connections still in
// their upgrade; the serving goroutine then ends.
func (ln *Listener) close() {
	if ln.udp != nil {
		ln.udp.Close()
	}
	if ln.srv != nil {
		ln.srv.Close()
	}
	if ln.ln != nil {
		ln.ln.Close() // Serve may not have started, so srv.Close may not know it
	}
}

// Listen binds the address in spec (see ParseListenSpec) and starts serving
// it. It returns once the socket is bound, so Addr is valid at once. tls
// and wss need Config.TLSCertFile and TLSKeyFile.
func (l *Layer) Listen(spec string) (*Listener, error) {
	s, err := ParseListenSpec(spec)
	if err != nil {
		return nil, err
	}
	ln := &Listener{layer: l, spec: s}
	var serve func()
	switch s.Proto {
	case UDP:
		serve, err = l.listenUDP(ln)
	case TCP, TLS:
		serve, err = l.listenStream(ln)
	default:
		serve, err = l.listenWS(ln)
	}
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", spec, err)
	}
	if !l.addListener(ln, serve) {
		ln.close()
		return nil, ErrClosed
	}
	l.log.Info("transport: listening", "listener", ln.String())
	return ln, nil
}

// addListener records ln and starts serve, unless the Layer is closed.
func (l *Layer) addListener(ln *Listener, serve func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.listeners = append(l.listeners, ln)
	l.goLocked(serve)
	return true
}

// Listeners returns the open listeners in the order they were created.
func (l *Layer) Listeners() []*Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Listener(nil), l.listeners...)
}

// Stats returns a snapshot of the counters.
func (l *Layer) Stats() Stats { return l.stats.snapshot() }

// Close closes every listener and connection and waits for the Layer's
// goroutines to end, including handlers still running. It must not be
// called from a Handler. Later calls do nothing. It always returns nil.
func (l *Layer) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	lns := l.listeners
	l.listeners = nil
	conns := make([]*conn, 0, len(l.conns))
	for _, c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()

	l.cancel() // aborts dials and handshakes, stops the certificate poller
	for _, ln := range lns {
		ln.close()
	}
	for _, c := range conns {
		c.close()
	}
	l.wg.Wait()
	return nil
}

// spawn runs f on a new goroutine that Close waits for, unless the Layer is
// closed.
func (l *Layer) spawn(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.goLocked(f)
	return true
}

// goLocked starts f on a tracked goroutine. l.mu must be held and the Layer
// open, so that wg.Add never races with Close's wg.Wait.
func (l *Layer) goLocked(f func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
}

// deliver hands p to the handler, recovering a panic so that one bad
// message cannot take the server down.
func (l *Layer) deliver(p *Packet) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("transport: handler panic", "panic", r, "proto", p.Proto, "source", p.Source)
		}
	}()
	if l.cfg.Tap != nil { // before the handler, which may modify Data in place
		l.cfg.Tap(true, p.Proto, p.Local, p.Source, p.Data)
	}
	l.h.HandlePacket(p)
}

// sleepCtx waits d or until the Layer closes; it reports false on close.
func (l *Layer) sleepCtx(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.ctx.Done():
		return false
	}
}

// addrPortOf converts a net.Addr to an AddrPort with IPv4 unmapped.
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	case nil:
		return ap
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return unmap(ap)
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// network returns base ("udp" or "tcp") with a 4 or 6 suffix when host is
// an IP literal, so that "0.0.0.0" binds IPv4 only rather than dual-stack.
func network(base, host string) string {
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return base
	case ip.Is4():
		return base + "4"
	default:
		return base + "6"
	}
}

// hostPort joins the spec's host and port for net.Listen.
func (s Spec) hostPort() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
