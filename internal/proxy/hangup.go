package proxy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/rtpengine"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
)

// Parley hangs up a confirmed call itself in three cases: calls.max_duration
// (hangup_by "timeout"), `parley calls end` and the management API, and a
// graceful shutdown (both hangup_by "system"). Like Kamailio's dlg_end_dlg,
// it sends a BYE to each end as the other end would have sent it (§12.2.1.1):
//
//   - Request-URI: that end's remote target (its Contact in the INVITE or the
//     2xx), with the route set between Parley and that end as Route: the
//     Record-Route values of the INVITE in order toward the caller, those of
//     the 2xx above ours reversed toward the callee. When the first hop of
//     the route set is a strict router (no lr), its URI becomes the
//     Request-URI and the remote target the last Route (§12.2.1.1);
//   - it goes over the flow that end's messages came on (the transport,
//     address and connection of the first hop), so a phone behind NAT or on
//     a TCP, TLS or WebSocket connection gets it the way the other end's
//     requests reach it;
//   - From, To and Call-ID are the dialog's, seen from the other end; CSeq
//     is one more than the highest that end has used; Reason (RFC 3326) says
//     why; the Via branch is signed like every branch the proxy makes, so
//     the response is known as ours;
//   - each BYE is a client transaction (retransmitted over UDP, §17.1.2);
//   - when the call's media goes through rtpengine (media.go), rtpengine is
//     told to delete it.
//
// The call record is written at once, with the end time of the BYEs.

// byeWait bounds how long EndAll waits for the BYEs it sent to be answered
// (or to fail) before the transports close.
const byeWait = 2 * time.Second

// EndAll hangs up every confirmed call, as a graceful shutdown must: a BYE to
// both ends with Reason text why, and each call's record with hangup_by
// "system". It then waits until every BYE is answered or has failed, for at
// most byeWait or until ctx is done, so that the BYEs are on the wire before
// the transports close. It returns the number of calls ended. Calls not yet
// answered are left to their INVITE transactions.
func (cs *Calls) EndAll(ctx context.Context, why string) int {
	if cs == nil {
		return 0
	}
	cs.mu.Lock()
	var live []*call
	for _, c := range cs.dlgs {
		live = append(live, c)
	}
	cs.mu.Unlock()
	var wg sync.WaitGroup
	n := 0
	for _, c := range live {
		if cs.end(c, acc.BySystem, why, &wg) {
			n++
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(byeWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	return n
}

// End hangs up a confirmed call by its ID (BYE to both ends); it reports
// whether the call was found and confirmed.
func (cs *Calls) End(id string) bool {
	if cs == nil {
		return false
	}
	cs.mu.Lock()
	var target *call
	for _, c := range cs.dlgs {
		if c.id == id {
			target = c
		}
	}
	cs.mu.Unlock()
	return target != nil && cs.end(target, acc.BySystem, "Ended by operator", nil)
}

// end makes Parley hang up a confirmed call: the dialog ends at once (so a
// BYE from a phone or another end racing with this one writes no second
// record), a BYE goes to each end, rtpengine deletes the call if it relayed
// it, and the record is written with hangup_by set. wg, when not nil, counts
// the BYEs and the rtpengine delete until they complete.
func (cs *Calls) end(c *call, by acc.HangupBy, why string, wg *sync.WaitGroup) bool {
	cs.mu.Lock()
	p := cs.p
	toCaller := bye{target: c.callerContact, routes: c.callerRoute, from: c.toHdr + ";tag=" + c.toTag,
		to: c.fromHdr, callID: c.rec.CallID, cseq: c.calleeCSeq + 1, why: why}
	toCallee := bye{target: c.calleeContact, routes: c.calleeRoute, from: c.fromHdr,
		to: c.toHdr + ";tag=" + c.toTag, callID: c.rec.CallID, cseq: c.callerCSeq + 1, why: why}
	caller, callee, relayed := c.caller, c.callee, c.relayed
	r, ok := cs.terminateLocked(c)
	cs.mu.Unlock()
	if !ok {
		return false
	}
	if p != nil {
		p.sendBye(caller, toCaller, wg)
		p.sendBye(callee, toCallee, wg)
		p.deleteMedia(r.CallID, relayed, wg)
	}
	cs.write(r, by)
	return true
}

// bye is a BYE of Parley's own inside a dialog, from one end to the other.
type bye struct {
	target   string   // the remote target of the end it goes to
	routes   []string // the route set toward that end, first hop first
	from, to string   // From and To values, tags included
	callID   string
	cseq     uint32
	why      string // Reason text (RFC 3326)
}

// bytes builds the BYE with our Via (§12.2.1.1 for Request-URI and Route).
func (b bye) bytes(via []byte) []byte {
	ruri, routes := dialogTarget(b.target, b.routes)
	m := fmt.Appendf(nil, "BYE %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n", ruri, via)
	for _, r := range routes {
		m = fmt.Appendf(m, "Route: %s\r\n", r)
	}
	return fmt.Appendf(m, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\n"+
		"Reason: SIP;cause=200;text=\"%s\"\r\nContent-Length: 0\r\n\r\n",
		b.from, b.to, b.callID, b.cseq, warnText(b.why))
}

// dialogTarget applies §12.2.1.1 to a remote target and a route set: with
// none, or a loose router (lr) first, the Request-URI is the remote target
// and the route set goes in Route as it is; with a strict router first, its
// URI is the Request-URI and the Route values are the rest of the route
// set followed by the remote target.
func dialogTarget(target string, routes []string) (ruri string, route []string) {
	if len(routes) == 0 {
		return target, nil
	}
	na, err := sip.ParseNameAddr([]byte(routes[0]))
	if err != nil {
		return target, routes
	}
	u, err := sip.ParseURI(na.URI)
	if err != nil {
		return target, routes
	}
	if _, lr := u.Param("lr"); lr {
		return target, routes
	}
	route = append(append([]string(nil), routes[1:]...), "<"+target+">")
	return string(na.URI), route
}

// sendBye starts a client transaction for a BYE of Parley's own over the
// flow of one end. wg, when not nil, is done when the BYE gets its final
// response or fails.
func (p *Proxy) sendBye(f flow, b bye, wg *sync.WaitGroup) {
	d, ok := f.dest(p.tl)
	if !ok {
		p.log.Info("BYE not sent: the connection of that end is gone", "call_id", b.callID, "to", f.encode())
		return
	}
	i, err := p.ifaceFor(d.Proto, d.Addr.Addr())
	if err != nil {
		p.log.Debug("BYE not sent", "call_id", b.callID, "err", err)
		return
	}
	d.Local = i.local
	msg := b.bytes(i.via(p.txl.SignBranch(nil, transaction.NewBranch())))
	var once sync.Once
	if wg != nil {
		wg.Add(1)
	}
	finished := func() {
		if wg != nil {
			once.Do(wg.Done)
		}
	}
	_, err = p.txl.Request(d, msg, func(_ *transaction.ClientTx, res *sip.Message) {
		if res == nil || res.StatusCode() >= 200 {
			finished()
		}
	})
	if err != nil {
		p.log.Debug("BYE not sent", "call_id", b.callID, "err", err)
		finished()
	}
}

// deleteMedia tells rtpengine to end a call Parley hangs up when its media
// goes through rtpengine: relayed (the call's own mark, kept across
// reloads), or in this proxy's list of relayed calls (a re-INVITE may have
// made it cross). rtpengine would otherwise keep its ports until its own
// timeout. It runs in the background; wg, when not nil, counts it.
func (p *Proxy) deleteMedia(callID string, relayed bool, wg *sync.WaitGroup) {
	r := p.media
	if r == nil {
		return
	}
	listed := r.forget(callID) // a BYE relayed later must not delete it a second time
	if !relayed && !listed {
		return
	}
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		r.delete(rtpengine.Request{CallID: callID})
	}()
}
