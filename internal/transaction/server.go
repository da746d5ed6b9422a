package transaction

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

type state uint8

// Transaction states of §17 and RFC 6026.
const (
	stTrying state = iota
	stCalling
	stProceeding
	stCompleted
	stConfirmed
	stAccepted
	stTerminated
)

// ErrFinalSent is returned by Respond after a final response was already sent,
// except for further 2xx to an INVITE (RFC 6026 Accepted state).
var ErrFinalSent = errors.New("transaction: final response already sent")

// ServerTx is a server transaction (§17.2). Request is a private copy, with
// received and rport filled in on its top Via (§18.2.1, RFC 3581).
type ServerTx struct {
	Request *sip.Message
	Source  Source

	l        *Layer
	key      string
	invite   bool
	reliable bool
	dest     transport.Dest

	mu       sync.Mutex
	state    state
	answered bool   // a final response was sent: counted in Layer.answered
	last     []byte // last response sent, for retransmission
	lastCode int
	toTag    []byte
	timerG   *time.Timer
	gIval    time.Duration
	timerEnd *time.Timer // H, J, L or I: the one that ends the current state

	done   chan struct{}
	ctx    context.Context    // cancelled by a matching CANCEL or the end of the transaction
	cancel context.CancelFunc // idempotent
}

// handleRequest matches req to a server transaction or starts a new one.
func (l *Layer) handleRequest(req *sip.Message, src Source) {
	var kb [256]byte
	key := serverKey(kb[:0], req)
	sh := l.shard(key)
	sh.mu.Lock()
	tx := sh.srv[string(key)]
	if tx != nil {
		sh.mu.Unlock()
		tx.receive(req)
		return
	}
	if req.Method() == sip.ACK {
		sh.mu.Unlock()
		l.core.ServeStateless(req, src)
		return
	}
	if m := req.Method(); l.screen != nil && m != sip.INVITE && m != sip.CANCEL && !l.closed.Load() {
		sh.mu.Unlock()
		if l.screen.Screen(req, src) {
			l.stats.screened.Add(1)
			return
		}
		sh.mu.Lock()
		if tx = sh.srv[string(key)]; tx != nil { // a copy came in meanwhile on another connection
			sh.mu.Unlock()
			tx.receive(req)
			return
		}
	}
	if l.closed.Load() || l.full() {
		sh.mu.Unlock()
		l.stats.rejected.Add(1)
		l.SendStateless(req, src, 503, "Service Unavailable", []byte("Retry-After: 5\r\n"))
		return
	}
	tx, err := l.newServerTx(req, src, string(key))
	if err != nil {
		sh.mu.Unlock()
		l.SendStateless(req, src, 400, "Bad Request", nil)
		return
	}
	sh.srv[tx.key] = tx
	sh.mu.Unlock()
	l.count.Add(1)
	l.stats.serverTx.Add(1)
	if tx.invite && !l.cfg.NoTrying {
		tx.Reply(100, "", nil)
	}
	l.workers.serve(tx)
}

func (l *Layer) newServerTx(req *sip.Message, src Source, key string) (*ServerTx, error) {
	var ab [64]byte
	ip := src.Addr.Addr().AppendTo(ab[:0])
	if string(ip) != string(req.Via.Host) || req.Via.HasRPort {
		req.SetViaReceived(ip, int(src.Addr.Port()))
	}
	c, err := req.Clone()
	req.ResetEdits()
	if err != nil {
		return nil, err
	}
	tx := &ServerTx{Request: c, Source: src, l: l, key: key, invite: c.Method() == sip.INVITE,
		reliable: src.Proto.Reliable(), done: make(chan struct{})}
	tx.ctx, tx.cancel = context.WithCancel(context.Background())
	tx.dest = responseDest(req, src)
	if tx.invite {
		tx.state = stProceeding // §17.2.1: the INVITE server transaction starts in Proceeding
	}
	return tx, nil
}

// receive handles a retransmitted request or an ACK for this transaction.
func (tx *ServerTx) receive(req *sip.Message) {
	tx.l.stats.retrans.Add(1)
	tx.mu.Lock()
	if req.Method() == sip.ACK {
		switch tx.state {
		case stCompleted: // §17.2.1: ACK for a non-2xx final response
			tx.state = stConfirmed
			tx.stopG()
			tx.restartEnd(tx.l.t.timerIK(tx.reliable))
		case stAccepted: // RFC 6026 §7.1: the ACK for a 2xx goes to the core
			tx.mu.Unlock()
			tx.l.core.ServeStateless(req, tx.Source)
			return
		}
		tx.mu.Unlock()
		return
	}
	var resend []byte
	if tx.state == stProceeding || tx.state == stCompleted {
		resend = tx.last // §17.2.1, §17.2.2: answer a retransmission with the last response
	}
	tx.mu.Unlock()
	if resend != nil {
		tx.l.send.Send(tx.dest, resend)
	}
}

// ToTag returns the To tag this transaction puts on its responses, made once.
func (tx *ServerTx) ToTag() []byte {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.toTagLocked()
}

func (tx *ServerTx) toTagLocked() []byte {
	if tx.toTag == nil {
		tx.toTag = appendHex(make([]byte, 0, 16), rand.Uint64())
	}
	return tx.toTag
}

// Reply builds a response to the request (sip.AppendResponse with this
// transaction's To tag) and sends it. extra holds complete header lines.
func (tx *ServerTx) Reply(code int, reason string, extra []byte) error {
	return tx.ReplyBody(code, reason, extra, "", nil)
}

// ReplyStateless answers a non-INVITE request as a stateless UAS would
// (§8.2.7): with a To tag derived from the request, so that a retransmission
// answered anew gets the same tag, and the transaction ends once the response
// is sent instead of lingering for Timer J. An INVITE is answered by Reply and
// keeps its transaction, which must absorb the ACK (§17.2.1).
func (tx *ServerTx) ReplyStateless(code int, reason string, extra []byte) error {
	if tx.invite {
		return tx.Reply(code, reason, extra)
	}
	tx.mu.Lock()
	if tx.toTag == nil {
		tx.toTag = tx.l.statelessTag(tx.Request)
	}
	tx.mu.Unlock()
	err := tx.Reply(code, reason, extra)
	if code >= 200 {
		tx.terminate()
	}
	return err
}

// ReplyBody is Reply with a body of type ctype.
func (tx *ServerTx) ReplyBody(code int, reason string, extra []byte, ctype string, body []byte) error {
	// Built in a pooled buffer, kept in one of its exact size: a final
	// response stays with the transaction until Timer J/H/I/L (32 s on UDP).
	sp := tx.l.scratch.Get().(*[]byte)
	b := sip.AppendResponse((*sp)[:0], tx.Request, code, reason, tx.ToTag(), tx.l.serverHeader(extra), ctype, body)
	out := append(make([]byte, 0, len(b)), b...)
	if cap(b) <= 64<<10 {
		*sp = b
		tx.l.scratch.Put(sp)
	}
	return tx.RespondBytes(code, out)
}

// Respond sends res, a response whose edits are applied, through the transaction.
func (tx *ServerTx) Respond(res *sip.Message) error {
	return tx.RespondBytes(res.StatusCode(), res.AppendTo(make([]byte, 0, len(res.Bytes())+256)))
}

// RespondBytes sends a serialized response with status code through the
// transaction and runs the state machine of §17.2.1 / §17.2.2 / RFC 6026.
// Provisional responses can be sent many times, a final response once; after a
// 2xx to an INVITE, further 2xx are still sent (forked answers, RFC 6026 §7.1).
func (tx *ServerTx) RespondBytes(code int, b []byte) error {
	tx.mu.Lock()
	if !tx.mayRespond(code) {
		tx.mu.Unlock()
		return ErrFinalSent
	}
	tx.last, tx.lastCode = b, code
	if code >= 200 {
		tx.enterFinal(code)
	} else if tx.state == stTrying {
		tx.state = stProceeding
	}
	tx.mu.Unlock()
	_, err := tx.l.send.Send(tx.dest, b)
	return err
}

func (tx *ServerTx) mayRespond(code int) bool {
	switch tx.state {
	case stTrying, stProceeding:
		return true
	case stAccepted:
		return code >= 200 && code < 300
	}
	return false
}

func (tx *ServerTx) enterFinal(code int) {
	t := tx.l.t
	if !tx.answered {
		tx.answered = true
		tx.l.answered.Add(1)
	}
	switch {
	case tx.invite && code < 300:
		tx.state = stAccepted // RFC 6026 §7.1
		tx.restartEnd(t.timerL())
	case tx.invite:
		tx.state = stCompleted // §17.2.1: retransmit with Timer G until ACK or Timer H
		if !tx.reliable {
			tx.gIval = t.T1
			tx.timerG = time.AfterFunc(tx.gIval, tx.onTimerG)
		}
		tx.restartEnd(t.timerH())
	default:
		tx.state = stCompleted // §17.2.2: Timer J absorbs retransmissions
		j := t.timerJ(tx.reliable)
		if j > 0 && tx.l.answered.Load() > int64(tx.l.cfg.MaxAnswered) {
			j = 0 // too many lingering: end now (Config.MaxAnswered)
			tx.l.stats.shed.Add(1)
		}
		tx.restartEnd(j)
	}
}

func (tx *ServerTx) onTimerG() {
	tx.mu.Lock()
	if tx.state != stCompleted {
		tx.mu.Unlock()
		return
	}
	b := tx.last
	tx.gIval = min(2*tx.gIval, tx.l.t.T2)
	tx.timerG = time.AfterFunc(tx.gIval, tx.onTimerG)
	tx.mu.Unlock()
	tx.l.stats.retransSent.Add(1)
	tx.l.send.Send(tx.dest, b)
}

// restartEnd (re)arms the timer that terminates the current state. mu is held.
func (tx *ServerTx) restartEnd(d time.Duration) {
	if tx.timerEnd != nil {
		tx.timerEnd.Stop()
	}
	if d <= 0 {
		tx.timerEnd = nil
		go tx.terminate()
		return
	}
	tx.timerEnd = time.AfterFunc(d, tx.terminate)
}

func (tx *ServerTx) stopG() {
	if tx.timerG != nil {
		tx.timerG.Stop()
		tx.timerG = nil
	}
}

// terminate removes the transaction (Timers H, I, J, L, or a transport error).
func (tx *ServerTx) terminate() {
	tx.mu.Lock()
	if tx.state == stTerminated {
		tx.mu.Unlock()
		return
	}
	if tx.state == stCompleted && tx.invite {
		tx.l.stats.timeouts.Add(1) // Timer H: no ACK came
	}
	tx.state = stTerminated
	tx.stopG()
	if tx.timerEnd != nil {
		tx.timerEnd.Stop()
	}
	answered := tx.answered
	tx.mu.Unlock()
	sh := tx.l.shard([]byte(tx.key))
	sh.mu.Lock()
	if sh.srv[tx.key] == tx {
		delete(sh.srv, tx.key)
	}
	sh.mu.Unlock()
	if answered {
		tx.l.answered.Add(-1)
	}
	tx.l.count.Add(-1)
	close(tx.done)
	tx.markCancelled()
}

// Release drops the request once its handler is done and a final response
// was sent: a transaction that only lingers to absorb retransmissions (Timers
// J, L, I) then holds little more than its last response.
func (tx *ServerTx) Release() {
	tx.mu.Lock()
	if tx.lastCode >= 200 {
		tx.Request = nil
	}
	tx.mu.Unlock()
}

// Drop ends the transaction at once without a response: the request was
// forwarded statelessly (§16.11), so a retransmission must be forwarded again.
func (tx *ServerTx) Drop() { tx.terminate() }

// Responded reports whether a final response was sent.
func (tx *ServerTx) Responded() bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.lastCode >= 200
}

// Done is closed when the transaction terminates.
func (tx *ServerTx) Done() <-chan struct{} { return tx.done }

// Cancelled is closed when a CANCEL matched this transaction (§9.2) or the
// transaction ended.
func (tx *ServerTx) Cancelled() <-chan struct{} { return tx.ctx.Done() }

// Context is cancelled when a CANCEL matched this transaction (§9.2) or the
// transaction ended: the context for its handler, without a goroutine to
// watch Cancelled.
func (tx *ServerTx) Context() context.Context { return tx.ctx }

func (tx *ServerTx) markCancelled() { tx.cancel() }

// Remote returns the source address of the request.
func (tx *ServerTx) Remote() netip.AddrPort { return tx.Source.Addr }

// Origin returns where the request came from.
func (tx *ServerTx) Origin() Source { return tx.Source }

// Transport returns the transport the request came on.
func (tx *ServerTx) Transport() transport.Proto { return tx.Source.Proto }

// MatchCancel returns the INVITE server transaction that the CANCEL req targets
// (§9.2), or nil, and marks it cancelled when it has not answered finally yet.
func (l *Layer) MatchCancel(cancel *sip.Message) *ServerTx {
	var kb [256]byte
	key := cancelTargetKey(kb[:0], cancel)
	sh := l.shard(key)
	sh.mu.Lock()
	tx := sh.srv[string(key)]
	sh.mu.Unlock()
	if tx == nil {
		return nil
	}
	tx.mu.Lock()
	pending := tx.lastCode < 200
	if pending {
		tx.markCancelled()
	}
	tx.mu.Unlock()
	return tx
}
