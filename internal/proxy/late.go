package proxy

import (
	"fmt"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// lateBranches remembers the INVITE branches the proxy ended without their
// final response: Timer C with no provisional (§16.8: as if a 408 had come,
// the client transaction terminated), 64*T1 after a CANCEL nobody answered
// (§9.1), and Timer B. The caller gets (or has had) another final response,
// so a 2xx that arrives on such a branch later, matching no transaction any
// more, must not be relayed upstream. Parley acknowledges it, so that the
// callee stops retransmitting, and hangs up with a BYE, as a UAC does with a
// 2xx it does not want (§13.2.2.4, §15).
//
// Entries live for Timer C (the longest a callee may decide) and are bounded
// in number; when full, new ones are not kept and such a late 2xx is relayed
// as any stray response.
type lateBranches struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*lateBranch // by the branch of our Via
}

type lateBranch struct {
	dest    transport.Dest // where the INVITE went
	until   time.Time
	byeSent bool
}

const maxLateBranches = 4096

func newLateBranches(ttl time.Duration) *lateBranches {
	return &lateBranches{ttl: ttl, m: make(map[string]*lateBranch)}
}

// add remembers a branch given up.
func (l *lateBranches) add(branch string, dest transport.Dest) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxLateBranches {
		for k, b := range l.m {
			if now.After(b.until) {
				delete(l.m, k)
			}
		}
		if len(l.m) >= maxLateBranches {
			return
		}
	}
	l.m[branch] = &lateBranch{dest: dest, until: now.Add(l.ttl)}
}

// take returns the branch a response belongs to, and whether the BYE is
// still to be sent (the first 2xx; later ones are retransmissions).
func (l *lateBranches) take(branch []byte) (dest transport.Dest, bye, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[string(branch)]
	if b == nil || time.Now().After(b.until) {
		return transport.Dest{}, false, false
	}
	bye, b.byeSent = !b.byeSent, true
	return b.dest, bye, true
}

// handle ends a late 2xx to an INVITE branch given up, and reports whether res was one.
func (l *lateBranches) handle(p *Proxy, res *sip.Message) bool {
	if res.StatusCode()/100 != 2 || res.CSeqMethod != sip.INVITE {
		return false
	}
	d, bye, ok := l.take(res.Via.Branch)
	if !ok {
		return false
	}
	p.endLate(res, d, bye)
	return true
}

// endLate sends the ACK for a late 2xx and, the first time, a BYE (a client
// transaction of its own), both to the callee's remote target over the
// branch's flow, along the route set below Parley (§12.1.2).
func (p *Proxy) endLate(res *sip.Message, d transport.Dest, bye bool) {
	i, err := p.ifaceFor(d.Proto, d.Addr.Addr())
	if err != nil {
		return
	}
	d.Local = i.local
	target := firstContact(res)
	if target == "" {
		target = string(res.To.URI)
	}
	routes := p.calleeRoutes(res)
	ack := lateRequest("ACK", target, routes, res, res.CSeq, i.via(p.txl.SignBranch(nil, transaction.NewBranch())), "")
	if _, err := p.tl.Send(d, ack); err != nil {
		p.log.Debug("ACK for a late 2xx not sent", "err", err)
	}
	if !bye {
		return
	}
	p.log.Info("2xx after the proxy gave the branch up: ACK and BYE", "call_id", string(res.CallID))
	msg := lateRequest("BYE", target, routes, res, res.CSeq+1, i.via(p.txl.SignBranch(nil, transaction.NewBranch())),
		"Reason: SIP;cause=408;text=\"Answered too late\"\r\n")
	if _, err := p.txl.Request(d, msg, func(*transaction.ClientTx, *sip.Message) {}); err != nil {
		p.log.Debug("BYE for a late 2xx not sent", "err", err)
	}
}

// calleeRoutes is the route set from Parley to the callee: the Record-Route
// values of a 2xx above our own, reversed (§12.1.2).
func (p *Proxy) calleeRoutes(res *sip.Message) []string {
	var above []string
	it := res.Values(sip.HdrRecordRoute)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if na, err := sip.ParseNameAddr(v); err == nil {
			if u, err := sip.ParseURI(na.URI); err == nil && p.isOurs(&u) {
				out := make([]string, 0, len(above))
				for j := len(above) - 1; j >= 0; j-- {
					out = append(out, above[j])
				}
				return out
			}
		}
		above = append(above, string(v))
	}
	return nil // we are not in the route set: straight to the remote target
}

// lateRequest builds an ACK or BYE inside the dialog of a 2xx, from the
// caller's side (From and To as in the 2xx).
func lateRequest(method, target string, routes []string, res *sip.Message, cseq uint32, via []byte, extra string) []byte {
	b := fmt.Appendf(nil, "%s %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n", method, target, via)
	for _, r := range routes {
		b = fmt.Appendf(b, "Route: %s\r\n", r)
	}
	return fmt.Appendf(b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n%sContent-Length: 0\r\n\r\n",
		res.Get(sip.HdrFrom), res.Get(sip.HdrTo), res.CallID, cseq, method, extra)
}
