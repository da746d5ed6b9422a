package transaction

import (
	"time"

	"github.com/parley-sip/parley/internal/sip"
)

// handleResponse matches res to a client transaction (§17.1.3) or passes it on.
func (l *Layer) handleResponse(res *sip.Message, src Source) {
	var kb [128]byte
	key := clientKey(kb[:0], res.Via.Branch, res.CSeqMethodName())
	sh := l.shard(key)
	sh.mu.Lock()
	ct := sh.cli[string(key)]
	sh.mu.Unlock()
	if ct == nil {
		l.core.ServeStrayResponse(res, src)
		return
	}
	ct.receive(res)
}

// receive runs the client state machines of §17.1.1.2, §17.1.2.2 and RFC 6026 §8.4.
func (ct *ClientTx) receive(res *sip.Message) {
	code := res.StatusCode()
	ct.mu.Lock()
	deliver, sendCancel, resendAck := false, false, []byte(nil)
	req := ct.Request
	switch ct.state {
	case stCalling, stTrying, stProceeding:
		deliver = true
		switch {
		case code < 200:
			if ct.state != stProceeding && ct.invite && ct.timerRetx != nil {
				ct.timerRetx.Stop() // §17.1.1.2: Timer A stops in Proceeding
			}
			ct.state = stProceeding
			ct.provisional = true
			sendCancel, ct.cancelWant = ct.cancelWant, false
		default:
			resendAck = ct.enterFinal(res, code)
		}
	case stAccepted:
		deliver = code >= 200 && code < 300 // a retransmitted or forked 2xx goes to the proxy core
	case stCompleted:
		if ct.invite && code >= 300 {
			resendAck = ct.ack // §17.1.1.2: a retransmitted final response gets the ACK again
		}
	}
	ct.mu.Unlock()
	if resendAck != nil {
		ct.l.send.Send(ct.dest, resendAck)
	}
	if sendCancel {
		ct.sendCancel(req)
	}
	if deliver {
		ct.onResponse(ct, res)
	}
}

// enterFinal moves to Completed or Accepted on a final response; mu is held.
// It returns the ACK to send for a non-2xx final response to an INVITE.
func (ct *ClientTx) enterFinal(res *sip.Message, code int) []byte {
	t := ct.l.t
	if ct.timerRetx != nil {
		ct.timerRetx.Stop()
	}
	if ct.timerEnd != nil {
		ct.timerEnd.Stop()
	}
	ct.finalCode = code
	var wait time.Duration
	var ack []byte
	switch {
	case ct.invite && code < 300:
		ct.state, wait = stAccepted, t.timerM()
	case ct.invite:
		ct.state, wait = stCompleted, t.timerD(ct.reliable)
		ct.ack = sip.AppendAck(make([]byte, 0, 512), ct.Request, res)
		ack = ct.ack
	default:
		ct.state, wait = stCompleted, t.timerIK(ct.reliable)
	}
	ct.raw, ct.Request = nil, nil // nothing is sent from it after a final response: keep lingering states small
	if wait <= 0 {
		go ct.finish(nil)
	} else {
		ct.timerEnd = time.AfterFunc(wait, ct.onTimeout)
	}
	return ack
}

// Cancel cancels an INVITE client transaction (§9.1): the CANCEL goes out once a
// provisional response has arrived, and not at all after a final response.
func (ct *ClientTx) Cancel() { ct.CancelWith(nil) }

// CancelWith is Cancel with extra header lines on the CANCEL, such as an RFC
// 3326 Reason telling a forked branch the call was answered elsewhere.
func (ct *ClientTx) CancelWith(extra []byte) {
	if !ct.invite {
		return
	}
	ct.mu.Lock()
	if extra != nil {
		ct.cancelExtra = extra
	}
	now, req := false, ct.Request
	switch ct.state {
	case stCalling:
		ct.cancelWant = true
	case stProceeding:
		now = true
	}
	ct.mu.Unlock()
	if now {
		ct.sendCancel(req)
	}
}

// sendCancel starts a non-INVITE client transaction for the CANCEL. Its
// response is only absorbed: the INVITE's own 487 is what counts.
func (ct *ClientTx) sendCancel(req *sip.Message) {
	ct.mu.Lock()
	extra := ct.cancelExtra
	ct.mu.Unlock()
	b := sip.AppendCancelWith(make([]byte, 0, 512), req, extra)
	if _, err := ct.l.Request(ct.Dest(), b, func(*ClientTx, *sip.Message) {}); err != nil {
		ct.l.log.Debug("CANCEL not sent", "err", err)
	}
	// §9.1: without a final response 64*T1 after the CANCEL, the INVITE
	// transaction is given up as a 408.
	time.AfterFunc(64*ct.l.t.T1, func() {
		ct.mu.Lock()
		pending := ct.state == stCalling || ct.state == stProceeding
		ct.mu.Unlock()
		if pending {
			ct.l.stats.timeouts.Add(1)
			ct.fail(ErrTimeout)
		}
	})
}

// FinalCode returns the final status received, or 0.
func (ct *ClientTx) FinalCode() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.finalCode
}
