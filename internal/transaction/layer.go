package transaction

import (
	"errors"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// Source says where a message came from.
type Source struct {
	Addr  netip.AddrPort
	Local netip.AddrPort
	Proto transport.Proto
	Conn  transport.ConnID
}

// Sender writes one message to a destination; *transport.Layer satisfies it.
type Sender interface {
	Send(dst transport.Dest, data []byte) (transport.ConnID, error)
}

// Core receives what the transaction layer does not handle itself.
type Core interface {
	// ServeRequest is called on a new goroutine for each request that starts a
	// server transaction. Its request stays valid for the transaction's life.
	ServeRequest(tx *ServerTx)
	// ServeStateless receives an ACK that matches no server transaction, or
	// one in the Accepted state: the ACK for a 2xx (§17.2.3, RFC 6026 §7.1). It
	// is called synchronously and req is valid only during the call.
	ServeStateless(req *sip.Message, src Source)
	// ServeStrayResponse receives a response that matches no client transaction,
	// which a proxy forwards statelessly (§16.7 step 2). req is valid only during the call.
	ServeStrayResponse(res *sip.Message, src Source)
}

// Screener is implemented by a Core that answers some new requests without
// a transaction, as a stateless UAS (RFC 3261 §8.2.7). Screen is called on
// the transport's goroutine for each new request other than INVITE, ACK and
// CANCEL, before a transaction is made for it; it reports whether it
// answered the request (with Layer.SendStateless). It must not block, and
// req is valid only during the call.
type Screener interface {
	Screen(req *sip.Message, src Source) bool
}

// Errors reported to client transaction owners.
var (
	ErrTimeout   = errors.New("transaction timed out")
	ErrTransport = errors.New("transport error")
	ErrNoBranch  = errors.New("request has no RFC 3261 branch in its top Via")
)

const shardCount = 32

type shard struct {
	mu  sync.Mutex
	srv map[string]*ServerTx
	cli map[string]*ClientTx
}

// Layer is the transaction layer. It implements transport.Handler.
type Layer struct {
	cfg      Config
	t        Timers
	send     Sender
	core     Core
	screen   Screener // core, if it screens requests; else nil
	log      *slog.Logger
	seed     maphash.Seed
	branches *branchSigner
	shards   [shardCount]shard
	msgs     sync.Pool    // *sip.Message for parsing received messages
	scratch  sync.Pool    // *[]byte for building responses
	count    atomic.Int64 // live transactions
	answered atomic.Int64 // of them, server transactions past their final response
	workers  *workers
	stats    counters
	closed   atomic.Bool
}

// New returns a Layer that sends with s and hands requests to core.
func New(cfg Config, s Sender, core Core, log *slog.Logger) *Layer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxTransactions <= 0 {
		cfg.MaxTransactions = 200000
	}
	if cfg.MaxAnswered <= 0 {
		cfg.MaxAnswered = 500000
	}
	l := &Layer{cfg: cfg, t: cfg.Timers.withDefaults(), send: s, core: core, log: log, seed: maphash.MakeSeed(),
		branches: newBranchSigner(cfg.BranchSecret)}
	l.screen, _ = core.(Screener)
	for i := range l.shards {
		l.shards[i].srv = make(map[string]*ServerTx)
		l.shards[i].cli = make(map[string]*ClientTx)
	}
	l.msgs.New = func() any { return new(sip.Message) }
	l.scratch.New = func() any { b := make([]byte, 0, 2048); return &b }
	l.workers = newWorkers(core, maxWorkers, workerIdle)
	return l
}

// SetSender sets the sender; for wiring when the transport is built after the layer.
func (l *Layer) SetSender(s Sender) { l.send = s }

// Timers returns the timers in effect.
func (l *Layer) Timers() Timers { return l.t }

func (l *Layer) shard(key []byte) *shard {
	return &l.shards[maphash.Bytes(l.seed, key)%shardCount]
}

// HandlePacket parses one received message and dispatches it (transport.Handler).
func (l *Layer) HandlePacket(p *transport.Packet) {
	m := l.msgs.Get().(*sip.Message)
	defer l.msgs.Put(m)
	src := Source{Addr: p.Source, Local: p.Local, Proto: p.Proto, Conn: p.Conn}
	if err := l.cfg.Limits.Parse(p.Data, m); err != nil {
		l.malformed(m, src, err)
		return
	}
	if m.IsRequest() {
		l.handleRequest(m, src)
		return
	}
	l.handleResponse(m, src)
}

// malformed answers a request that still has a usable Via with a stateless
// error response naming the problem (§16.3, RFC 4475); anything else is dropped
// and counted, never logged one by one.
func (l *Layer) malformed(m *sip.Message, src Source, err error) {
	l.stats.malformed.Add(1)
	var pe *sip.ParseError
	if !errors.As(err, &pe) || !m.IsRequest() || !m.HasUsableVia() || m.Method() == sip.ACK {
		l.stats.dropped.Add(1)
		return
	}
	l.SendStateless(m, src, pe.Code(), pe.Reason(), nil)
}

// outLimits are the limits for parsing a message this server sends: the
// configured ones with room for the Via and Record-Route lines a proxy adds
// to a request that was within them.
func (l *Layer) outLimits() sip.Limits {
	lim := l.cfg.Limits
	if lim.MaxHeaders <= 0 {
		lim.MaxHeaders = sip.DefaultMaxHeaders
	}
	if lim.MaxValues <= 0 {
		lim.MaxValues = sip.DefaultMaxValues
	}
	lim.MaxHeaders += 8
	lim.MaxValues += 4
	return lim
}

// SendFailed is told of a message that the transport queued but could not
// write (transport.Config.OnSendError: the dial, the TLS handshake or a
// write failed). The client transaction whose request it was, while it still
// waits for a final response, ends with ErrTransport: its owner gets a nil
// response, which a proxy or UAC treats as a 503 (RFC 3261 §8.1.3.1,
// §17.1.4). A response or an ACK that could not be sent is only counted.
func (l *Layer) SendFailed(_ transport.Dest, data []byte, err error) {
	l.stats.sendErrors.Add(1)
	m := l.msgs.Get().(*sip.Message)
	defer l.msgs.Put(m)
	if l.outLimits().Parse(data, m) != nil || !m.IsRequest() || m.Method() == sip.ACK {
		return
	}
	var kb [128]byte
	key := clientKey(kb[:0], m.Via.Branch, m.MethodName())
	sh := l.shard(key)
	sh.mu.Lock()
	ct := sh.cli[string(key)]
	sh.mu.Unlock()
	if ct != nil && ct.pending() {
		l.log.Debug("request not sent", "method", string(m.MethodName()), "err", err)
		ct.fail(ErrTransport)
	}
}

// SendStateless answers req without a transaction (§8.2.7, §16.3).
// The Via gets received and rport like a transaction's response (RFC 3581 §4).
func (l *Layer) SendStateless(req *sip.Message, src Source, code int, reason string, extra []byte) {
	var buf [2048]byte
	var ab [64]byte
	recv := src.Addr.Addr().Unmap().AppendTo(ab[:0])
	out := sip.AppendResponseReceived(buf[:0], req, code, reason, l.statelessTag(req), l.serverHeader(extra), recv, int(src.Addr.Port()))
	if _, err := l.send.Send(responseDest(req, src), out); err != nil {
		l.log.Debug("stateless response not sent", "err", err)
	}
}

// statelessTag derives a To tag from the request, so retransmissions of a
// request answered statelessly get the same tag (§8.2.6.2).
func (l *Layer) statelessTag(req *sip.Message) []byte {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.Write(req.Via.Branch)
	h.Write(req.CallID)
	var b [16]byte
	return appendHex(b[:0], h.Sum64())
}

func (l *Layer) serverHeader(extra []byte) []byte {
	if l.cfg.ServerHeader == "" {
		return extra
	}
	out := append([]byte("Server: "), l.cfg.ServerHeader...)
	out = append(out, "\r\n"...)
	return append(out, extra...)
}

// responseDest applies §18.2.2 and RFC 3581 §4: a response goes back on the
// connection the request came on (Conn). Should that connection be gone, a
// stream response goes to the source address (the received IP) and the Via's
// sent-by port, or the transport's default port (§18.2.2); a UDP response
// goes to the source address and port when the client asked for rport, and
// otherwise to the source address and the sent-by port.
func responseDest(req *sip.Message, src Source) transport.Dest {
	d := transport.Dest{Proto: src.Proto, Addr: src.Addr, Conn: src.Conn, Local: src.Local}
	switch {
	case src.Proto == transport.UDP && req.Via.HasRPort:
	case src.Proto == transport.UDP, src.Proto == transport.TCP, src.Proto == transport.TLS:
		port := req.Via.Port
		if port == 0 {
			port = src.Proto.DefaultPort()
		}
		d.Addr = netip.AddrPortFrom(src.Addr.Addr(), uint16(port))
	}
	return d
}

// Count returns the number of live transactions.
func (l *Layer) Count() int { return int(l.count.Load()) }

// full reports whether a new server transaction must be refused: the
// transactions at work (all but the server transactions that have answered)
// reached MaxTransactions, or all of them reached MaxTransactions plus
// MaxAnswered, the bound for answered INVITE transactions, which are never
// shed.
func (l *Layer) full() bool {
	n := l.count.Load()
	return n-l.answered.Load() >= int64(l.cfg.MaxTransactions) ||
		n >= int64(l.cfg.MaxTransactions)+int64(l.cfg.MaxAnswered)
}

// Close stops accepting new transactions; live ones run their timers out.
func (l *Layer) Close() {
	l.closed.Store(true)
	l.workers.stop()
}

func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, digits[(v>>uint(i))&0xf])
	}
	return b
}
