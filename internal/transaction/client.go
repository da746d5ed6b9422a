package transaction

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// ResponseFunc receives the responses of a client transaction, called without
// locks held. res is valid only during the call; it is nil when the transaction
// failed (timeout, transport error), and then ct.Err() says why. After a nil
// res or a final non-2xx response nothing more is delivered; after a 2xx to an
// INVITE, retransmitted or forked 2xx may follow (RFC 6026 §8.4).
type ResponseFunc func(ct *ClientTx, res *sip.Message)

// ClientTx is a client transaction (§17.1).
type ClientTx struct {
	Request *sip.Message // the request as sent, parsed; nil once a final response arrived

	l          *Layer
	key        string
	raw        []byte
	dest       transport.Dest
	invite     bool
	reliable   bool
	onResponse ResponseFunc

	mu          sync.Mutex
	state       state
	err         error
	ival        time.Duration
	timerRetx   *time.Timer // A or E
	timerEnd    *time.Timer // B, D, F, K or M
	provisional bool
	cancelWant  bool
	cancelExtra []byte
	ack         []byte
	finalCode   int
}

// NewBranch returns a fresh branch parameter value with the RFC 3261 magic cookie (§8.1.1.7).
func NewBranch() string {
	b := make([]byte, 0, 7+32)
	b = append(b, sip.BranchMagic...)
	b = appendHex(b, rand.Uint64())
	return string(appendHex(b, rand.Uint64()))
}

// Request starts a client transaction that sends req (serialized, with the
// caller's Via on top carrying an RFC 3261 branch) to dst.
func (l *Layer) Request(dst transport.Dest, req []byte, f ResponseFunc) (*ClientTx, error) {
	m, err := l.outLimits().ParseCopy(req)
	if err != nil {
		return nil, err
	}
	if !m.Via.IsRFC3261Branch() {
		return nil, ErrNoBranch
	}
	ct := &ClientTx{Request: m, l: l, raw: m.Bytes(), dest: dst, invite: m.Method() == sip.INVITE,
		reliable: dst.Proto.Reliable(), onResponse: f}
	var kb [128]byte
	key := clientKey(kb[:0], m.Via.Branch, m.MethodName())
	ct.key = string(key)
	ct.start() // before the transaction is visible: a fast response must find it armed
	sh := l.shard(key)
	sh.mu.Lock()
	sh.cli[ct.key] = ct
	sh.mu.Unlock()
	l.count.Add(1)
	l.stats.clientTx.Add(1)
	conn, err := l.send.Send(dst, ct.raw)
	if err != nil {
		ct.finish(ErrTransport)
		return nil, err
	}
	if conn != 0 {
		ct.mu.Lock()
		ct.dest.Conn = conn
		ct.mu.Unlock()
	}
	return ct, nil
}

// start arms Timer A/B (INVITE, §17.1.1.2) or E/F (non-INVITE, §17.1.2.2).
func (ct *ClientTx) start() {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	t := ct.l.t
	ct.state = stTrying
	if ct.invite {
		ct.state = stCalling
	}
	if !ct.reliable {
		ct.ival = t.T1
		ct.timerRetx = time.AfterFunc(ct.ival, ct.onRetransmit)
	}
	ct.timerEnd = time.AfterFunc(t.timerB(), ct.onTimeout) // B and F are both 64*T1
}

func (ct *ClientTx) onRetransmit() {
	ct.mu.Lock()
	if ct.state != stCalling && ct.state != stTrying && ct.state != stProceeding {
		ct.mu.Unlock()
		return
	}
	if ct.invite && ct.state == stProceeding {
		ct.mu.Unlock()
		return
	}
	if ct.state == stProceeding {
		ct.ival = ct.l.t.T2 // §17.1.2.2: in Proceeding, E fires every T2
	} else if ct.invite {
		ct.ival *= 2 // Timer A doubles without bound; B ends it
	} else {
		ct.ival = min(2*ct.ival, ct.l.t.T2)
	}
	ct.timerRetx = time.AfterFunc(ct.ival, ct.onRetransmit)
	raw, dest := ct.raw, ct.dest
	ct.mu.Unlock()
	ct.l.stats.retransSent.Add(1)
	if _, err := ct.l.send.Send(dest, raw); err != nil {
		ct.fail(ErrTransport)
	}
}

func (ct *ClientTx) onTimeout() {
	ct.mu.Lock()
	st := ct.state
	ct.mu.Unlock()
	switch st {
	case stCalling, stTrying, stProceeding:
		if ct.invite && st == stProceeding {
			return // Timer B applies to Calling only; the proxy's Timer C covers Proceeding
		}
		ct.l.stats.timeouts.Add(1)
		ct.fail(ErrTimeout)
	default:
		ct.finish(nil) // Timers D, K and M end their states quietly
	}
}

// pending reports whether the transaction still waits for a final response.
func (ct *ClientTx) pending() bool {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.state == stCalling || ct.state == stTrying || ct.state == stProceeding
}

// fail terminates the transaction and reports err to the owner (§17.1.4).
func (ct *ClientTx) fail(err error) {
	if ct.finish(err) {
		ct.onResponse(ct, nil)
	}
}

// finish terminates the transaction; it reports whether this call did it.
func (ct *ClientTx) finish(err error) bool {
	ct.mu.Lock()
	if ct.state == stTerminated {
		ct.mu.Unlock()
		return false
	}
	ct.state, ct.err = stTerminated, err
	if ct.timerRetx != nil {
		ct.timerRetx.Stop()
	}
	if ct.timerEnd != nil {
		ct.timerEnd.Stop()
	}
	ct.mu.Unlock()
	sh := ct.l.shard([]byte(ct.key))
	sh.mu.Lock()
	if sh.cli[ct.key] == ct {
		delete(sh.cli, ct.key)
	}
	sh.mu.Unlock()
	ct.l.count.Add(-1)
	return true
}

// Terminate ends the transaction at once without telling its owner, who has
// given up on it (a proxy 64*T1 after cancelling a branch that never answered).
func (ct *ClientTx) Terminate() { ct.finish(nil) }

// Err says why a transaction failed.
func (ct *ClientTx) Err() error {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.err
}

// Dest returns where the request went; Conn is the connection used.
func (ct *ClientTx) Dest() transport.Dest {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.dest
}
