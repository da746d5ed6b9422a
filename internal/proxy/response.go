package proxy

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
)

// onResponse handles one response of a branch (§16.7); res is nil when the
// client transaction failed (Timer B or F, or a transport error).
func (f *forker) onResponse(b *branch, ct *transaction.ClientTx, res *sip.Message) {
	f.mediaAnswer(b, res) // media.go: the relay's SDP answer, before mu (it waits for rtpengine)
	if res != nil && res.StatusCode()/100 == 3 && f.p.cfg.Follow3xx {
		f.on3xx(b, ct, res)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.ct == nil {
		b.ct = ct
	}
	if res == nil {
		f.onFailure(b, ct)
		return
	}
	switch code := res.StatusCode(); {
	case code == 100: // §16.7 step 5: 100 is not forwarded
	case code < 200:
		f.onProvisional(b, res)
	case code < 300:
		if f.call != nil {
			f.p.calls.answered(f.call, res, b.dest, f.p.calleeRoutes(res)) // the route set for Parley's own BYE
		}
		f.forward(res) // §16.7 step 5: every 2xx goes upstream at once
		f.answered, f.finalSent = true, true
		f.endLocked(b, 0, nil)
		f.cancelAll(b, answeredElsewhere) // RFC 3326: phones then log no missed call
	default:
		f.onFinal(b, code, res)
	}
}

// onFailure ends a branch whose client transaction failed: a timeout is a
// 408, a transport error a 503 (§16.7 step 2, §17.1.4); mu is held.
func (f *forker) onFailure(b *branch, ct *transaction.ClientTx) {
	if errors.Is(ct.Err(), transaction.ErrTransport) {
		f.failLocked(b, 503) // resolve.go: or the next destination (RFC 3263 §4.3)
		return
	}
	if f.invite && !b.done {
		f.p.late.add(b.id, b.dest) // the transaction is gone: a 2xx now would be a stray
	}
	f.failLocked(b, 408)
}

// onProvisional forwards a 1xx and restarts Timer C (§16.8), except after a
// CANCEL, when the timer is the 64*T1 give-up and stays; mu is held.
func (f *forker) onProvisional(b *branch, res *sip.Message) {
	b.provisional = true
	if b.timerC != nil && !b.cancelled {
		b.timerC.Reset(f.p.cfg.TimerC)
	}
	if res.StatusCode() >= 180 {
		f.p.calls.ringing(f.call)
	}
	if !f.finalSent {
		f.forward(res)
	}
}

// onFinal records a final non-2xx response; mu is held.
func (f *forker) onFinal(b *branch, code int, res *sip.Message) {
	if code == 503 && f.failoverLocked(b, res) { // resolve.go: the next destination (RFC 3263 §4.3)
		return
	}
	if code >= 600 {
		f.stop = true
		f.cancelAll(b, nil)
	}
	if code == 487 && b.timedOut && !f.cancelled {
		// Timer C ended a ringing branch (§16.8): nobody answered. The caller
		// gets 408, as from Kamailio's fr_inv_timer, and the call record says
		// no answer, not a failure.
		f.endLocked(b, 408, nil)
		return
	}
	f.endLocked(b, code, res)
}

// on3xx handles a 3xx with proxy.follow_3xx (§16.7 step 4): its contacts not
// yet tried become new targets, resolved without holding mu (DNS may take
// seconds); with none, the 3xx is a final response like any other.
func (f *forker) on3xx(b *branch, ct *transaction.ClientTx, res *sip.Message) {
	f.mu.Lock()
	if b.ct == nil {
		b.ct = ct
	}
	cands := f.untried(res)
	f.mu.Unlock()
	found := f.p.resolveTargets(cands) // the branch stays live meanwhile, so wait does not end the group
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range found {
		if !f.tried[t.uri] && len(f.tried)+n < maxTargets {
			f.more = append(f.more, t)
			n++
		}
	}
	if n > 0 {
		f.endLocked(b, 0, nil)
		return
	}
	f.onFinal(b, res.StatusCode(), res)
}

// untried returns the Contact values of a 3xx not tried yet, with their q
// (1000 when absent); mu is held.
func (f *forker) untried(res *sip.Message) []target {
	var out []target
	it := res.Values(sip.HdrContact)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		na, err := sip.ParseNameAddr(v)
		if err != nil || f.tried[string(na.URI)] || len(f.tried)+len(out) >= maxTargets {
			continue
		}
		q := 1000
		if qv, ok := na.Param("q"); ok {
			if x, err := strconv.ParseFloat(string(qv), 64); err == nil {
				q = int(x * 1000)
			}
		}
		out = append(out, target{uri: string(na.URI), q: q})
	}
	return out
}

// followWait bounds the resolution of all the contacts of one 3xx.
const followWait = 5 * time.Second

// resolveTargets resolves each target's uri, dropping those that do not resolve.
func (p *Proxy) resolveTargets(ts []target) []target {
	ctx, cancel := context.WithTimeout(context.Background(), followWait)
	defer cancel()
	var out []target
	for _, t := range ts {
		if d, err := p.resolve(ctx, []byte(t.uri)); err == nil {
			t.dest = d
			out = append(out, t)
		}
	}
	return out
}

// record keeps the best final response so far (§16.7 step 6): a 6xx wins,
// otherwise the lowest class, and in 4xx the ones that let the caller retry
// (401, 407, 415, 420, 484). Challenges of all 401/407 are collected.
func (f *forker) record(code int, res *sip.Message) {
	if res != nil && (code == 401 || code == 407) {
		k := sip.HdrWWWAuthenticate
		if code == 407 {
			k = sip.HdrProxyAuthenticate
		}
		name := k.String()
		it := res.Values(k)
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			f.challenges = append(f.challenges, name+": "...)
			f.challenges = append(f.challenges, v...)
			f.challenges = append(f.challenges, "\r\n"...)
		}
	}
	if f.bestCode != 0 && rank(code) >= rank(f.bestCode) {
		return
	}
	f.bestCode, f.best = code, nil
	if res != nil {
		if c, err := res.Clone(); err == nil {
			f.best = c
		}
	}
}

// rank orders final responses for §16.7 step 6, lowest best: 6xx first, then
// by class, and within a class the responses the caller can act on (401,
// 407, 415, 420, 484) before the others.
func rank(code int) int {
	if code >= 600 {
		return 0
	}
	r := code / 100 * 10
	switch code {
	case 401, 407, 415, 420, 484:
	default:
		r++
	}
	return r
}

// sendBest sends the chosen final response upstream; mu is held.
func (f *forker) sendBest() {
	f.finalSent = true
	code := f.bestCode
	switch {
	case code == 0:
		code = 408 // no branch answered at all
	case code == 503:
		code = 500 // §16.7 step 6: a 503 is not passed on
	}
	reason := f.p.cfg.ReasonPhrases[code]
	if f.best != nil && code == f.bestCode {
		reason = string(f.best.Reason())
	}
	f.p.calls.failed(f.call, code, reason)
	if f.best != nil && code == f.bestCode && (code != 401 && code != 407 || countLines(f.challenges) <= 1) {
		f.forward(f.best)
		return
	}
	extra := []byte(nil)
	if code == 401 || code == 407 {
		extra = f.challenges
	}
	f.tx.Reply(code, f.p.cfg.ReasonPhrases[code], extra)
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// forward relays a response upstream: our Via removed (§16.7 step 3), the
// reason phrase rewritten when the operator asked for it.
func (f *forker) forward(res *sip.Message) {
	res.PopVia()
	if r, ok := f.p.cfg.ReasonPhrases[res.StatusCode()]; ok {
		res.SetReason([]byte(r))
	}
	if err := f.tx.Respond(res); err != nil && !errors.Is(err, transaction.ErrFinalSent) {
		f.p.log.Debug("response not relayed", "err", err)
	}
	res.ResetEdits()
}
