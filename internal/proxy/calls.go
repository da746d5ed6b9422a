package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// DialogState is where an INVITE dialog stands (RFC 3261 §12).
type DialogState string

// Dialog states.
const (
	Early      DialogState = "early"
	Confirmed  DialogState = "confirmed"
	Terminated DialogState = "terminated"
)

// call is one INVITE the proxy routes: its call record in the making and,
// once answered, the dialog between both ends.
type call struct {
	id      string
	rec     acc.Record
	state   DialogState
	fromTag string
	toTag   string
	caller  flow // where the INVITE came from
	callee  flow // the branch that answered
	// What Parley needs to end the call itself with a BYE to each end.
	callerContact, calleeContact string
	fromHdr, toHdr               string // From and To values of the INVITE, without tags added later
	callerCSeq, calleeCSeq       uint32
	local                        bool // the callee is a user of our domains
	cancelled                    bool
	timer                        *time.Timer
}

// Calls tracks INVITE dialogs (like Kamailio's dialog module) and writes a
// call record for each INVITE routed. Its zero value is not usable; see newCalls.
type Calls struct {
	p           *Proxy // the proxy in effect: Parley's own BYEs go out through it
	rec         acc.Recorder
	maxDuration time.Duration
	now         func() time.Time

	mu    sync.Mutex
	early map[string]*call // Call-ID + From tag, before the answer
	dlgs  map[string]*call // Call-ID + From tag + To tag, once confirmed
}

// NewCalls returns a tracker writing records to rec. One tracker lives as long
// as the server, across configuration reloads; each new Proxy attaches to it.
func NewCalls(rec acc.Recorder) *Calls {
	return &Calls{rec: rec, now: time.Now, early: make(map[string]*call), dlgs: make(map[string]*call)}
}

// attach makes p the proxy that sends Parley's BYEs, with its maximum duration.
func (cs *Calls) attach(p *Proxy, maxDuration time.Duration) {
	cs.mu.Lock()
	cs.p, cs.maxDuration = p, maxDuration
	cs.mu.Unlock()
}

func key(callID, fromTag, toTag []byte) string {
	return string(callID) + "\x00" + string(fromTag) + "\x00" + string(toTag)
}

// start records a new initial INVITE.
func (cs *Calls) start(req *sip.Message, src transaction.Source, local bool) *call {
	if cs == nil || cs.rec == nil {
		return nil
	}
	c := &call{id: newID(), state: Early, fromTag: string(req.FromTag), caller: flow{src.Proto, src.Addr, src.Conn},
		fromHdr: string(req.Get(sip.HdrFrom)), toHdr: string(req.Get(sip.HdrTo)), callerCSeq: req.CSeq, local: local}
	c.callerContact = firstContact(req)
	c.rec = acc.Record{ID: c.id, CallID: string(req.CallID), FromURI: string(req.From.URI),
		FromName: strings.Trim(string(req.From.Display), `"`), ToURI: string(req.To.URI),
		RequestURI: string(req.RequestURI()), Caller: aorOf(req.From.URI), Callee: aorOf(req.RequestURI()),
		Source: src.Addr.String(), Transport: src.Proto.String(), InviteAt: cs.now(),
		ReferredBy: string(req.Get(sip.HdrReferredBy))}
	cs.mu.Lock()
	cs.early[key(req.CallID, req.FromTag, nil)] = c
	cs.mu.Unlock()
	return c
}

func aorOf(uri []byte) string {
	u, err := sip.ParseURI(uri)
	if err != nil || !u.IsSIP() {
		return string(uri)
	}
	return sip.Unescape(string(u.User)) + "@" + strings.ToLower(string(u.Host))
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tried notes a contact the call was forked to.
func (cs *Calls) tried(c *call, target string) {
	if c == nil || target == "" {
		return
	}
	cs.mu.Lock()
	c.rec.Targets = append(c.rec.Targets, target)
	cs.mu.Unlock()
}

// ringing notes the first 18x.
func (cs *Calls) ringing(c *call) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	if c.rec.RingAt.IsZero() {
		c.rec.RingAt = cs.now()
	}
	cs.mu.Unlock()
}

// answered confirms the dialog of the first 2xx (§12.1); later 2xx of a
// forked INVITE are other dialogs Parley does not track.
func (cs *Calls) answered(c *call, res *sip.Message, callee transport.Dest) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c.state != Early {
		return
	}
	c.state, c.toTag = Confirmed, string(res.ToTag)
	c.rec.AnswerAt, c.rec.Code, c.rec.Reason = cs.now(), res.StatusCode(), string(res.Reason())
	c.callee = flow{callee.Proto, callee.Addr, callee.Conn}
	c.calleeContact = firstContact(res)
	delete(cs.early, key([]byte(c.rec.CallID), []byte(c.fromTag), nil))
	cs.dlgs[key([]byte(c.rec.CallID), []byte(c.fromTag), []byte(c.toTag))] = c
	if cs.maxDuration > 0 {
		c.timer = time.AfterFunc(cs.maxDuration, func() { cs.end(c, acc.ByTimeout, "Call duration limit") })
	}
}

// failed ends an unanswered call with its final response.
func (cs *Calls) failed(c *call, code int, reason string) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	if c.state != Early {
		cs.mu.Unlock()
		return
	}
	c.state = Terminated
	delete(cs.early, key([]byte(c.rec.CallID), []byte(c.fromTag), nil))
	r := c.rec
	cs.mu.Unlock()
	if reason == "" {
		reason = sip.StatusText(code)
	}
	r.EndAt, r.Code, r.Reason = cs.now(), code, reason
	r.Disposition = acc.DispositionOf(code, c.cancelled)
	r.Missed = c.local && r.Disposition != acc.Failed
	cs.rec.Record(r)
}

// forget drops an INVITE that a stateless route forwarded (§16.11): with no
// transaction Parley never learns how the call ends, so it writes no record
// (and keeps nothing, also for each retransmission).
func (cs *Calls) forget(c *call) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	if c.state == Early {
		c.state = Terminated
		delete(cs.early, key([]byte(c.rec.CallID), []byte(c.fromTag), nil))
	}
	cs.mu.Unlock()
}

// cancel notes that the caller cancelled the INVITE (§16.10).
func (cs *Calls) cancel(c *call) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	c.cancelled = true
	cs.mu.Unlock()
}

// inDialog looks at a request inside a tracked dialog: a BYE ends it (who hung
// up is the side it came from), a REFER notes the transfer target, and the
// CSeq of each side is followed so that Parley's own BYE uses a higher one.
func (cs *Calls) inDialog(req *sip.Message, src transaction.Source) {
	if cs == nil || cs.rec == nil || len(req.ToTag) == 0 {
		return
	}
	cs.mu.Lock()
	c, fromCaller := cs.dlgs[key(req.CallID, req.FromTag, req.ToTag)], true
	if c == nil {
		c, fromCaller = cs.dlgs[key(req.CallID, req.ToTag, req.FromTag)], false
	}
	if c == nil {
		cs.mu.Unlock()
		return
	}
	if fromCaller {
		c.callerCSeq = max(c.callerCSeq, req.CSeq)
	} else {
		c.calleeCSeq = max(c.calleeCSeq, req.CSeq)
	}
	if req.Method() == sip.REFER {
		c.rec.TransferTo = string(req.Get(sip.HdrReferTo))
	}
	cs.mu.Unlock()
	if req.Method() == sip.BYE {
		by := acc.ByCaller
		if !fromCaller {
			by = acc.ByCallee
		}
		cs.finish(c, by)
	}
}

// finish terminates a confirmed dialog and writes its record.
func (cs *Calls) finish(c *call, by acc.HangupBy) bool {
	cs.mu.Lock()
	if c.state != Confirmed {
		cs.mu.Unlock()
		return false
	}
	c.state = Terminated
	if c.timer != nil {
		c.timer.Stop()
	}
	delete(cs.dlgs, key([]byte(c.rec.CallID), []byte(c.fromTag), []byte(c.toTag)))
	r := c.rec
	cs.mu.Unlock()
	r.EndAt, r.HangupBy, r.Disposition = cs.now(), by, acc.Answered
	r.Duration = r.EndAt.Sub(r.AnswerAt).Seconds()
	cs.rec.Record(r)
	return true
}

// end makes Parley hang up a confirmed call: a BYE to each end (RFC 3326
// Reason says why), then the record with hangup_by set.
func (cs *Calls) end(c *call, by acc.HangupBy, why string) bool {
	cs.mu.Lock()
	if c.state != Confirmed {
		cs.mu.Unlock()
		return false
	}
	toCaller := cs.bye(c.callerContact, c.toHdr, c.toTag, c.fromHdr, c.rec.CallID, c.calleeCSeq+1, why)
	toCallee := cs.bye(c.calleeContact, c.fromHdr, "", c.toHdr+";tag="+c.toTag, c.rec.CallID, c.callerCSeq+1, why)
	caller, callee := c.caller, c.callee
	cs.mu.Unlock()
	cs.send(caller, toCaller)
	cs.send(callee, toCallee)
	return cs.finish(c, by)
}

// bye builds a BYE from one end's point of view. fromTag is added to from when not empty.
func (cs *Calls) bye(ruri, from, fromTag, to, callID string, cseq uint32, why string) []byte {
	if fromTag != "" {
		from += ";tag=" + fromTag
	}
	return fmt.Appendf(nil, "BYE %s SIP/2.0\r\nVia: %%VIA%%\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"+
		"Call-ID: %s\r\nCSeq: %d BYE\r\nReason: SIP;cause=200;text=\"%s\"\r\nContent-Length: 0\r\n\r\n",
		ruri, from, to, callID, cseq, why)
}

// send starts a client transaction for a BYE of Parley's own over the flow.
func (cs *Calls) send(f flow, msg []byte) {
	cs.mu.Lock()
	p := cs.p
	cs.mu.Unlock()
	d, ok := f.dest(p.tl)
	if !ok {
		return
	}
	i, err := p.ifaceFor(d.Proto, d.Addr.Addr())
	if err != nil {
		return
	}
	d.Local = i.local
	msg = []byte(strings.Replace(string(msg), "%VIA%", string(i.via(p.txl.SignBranch(nil, transaction.NewBranch()))), 1))
	if _, err := p.txl.Request(d, msg, func(*transaction.ClientTx, *sip.Message) {}); err != nil {
		p.log.Debug("BYE not sent", "err", err)
	}
}

// Dialog is an active call as listed by the management API and `parley calls`.
type Dialog struct {
	ID       string      `json:"id"`
	CallID   string      `json:"call_id"`
	State    DialogState `json:"state"`
	Caller   string      `json:"caller"`
	Callee   string      `json:"callee"`
	InviteAt time.Time   `json:"invite_at"`
	AnswerAt time.Time   `json:"answer_at,omitzero"`
	Route    []string    `json:"ends"` // the flows of both ends
}

// List returns the calls in progress, early and confirmed, oldest first.
func (cs *Calls) List() []Dialog {
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []Dialog
	for _, m := range []map[string]*call{cs.early, cs.dlgs} {
		for _, c := range m {
			out = append(out, Dialog{ID: c.id, CallID: c.rec.CallID, State: c.state, Caller: c.rec.Caller,
				Callee: c.rec.Callee, InviteAt: c.rec.InviteAt, AnswerAt: c.rec.AnswerAt,
				Route: []string{c.caller.encode(), c.callee.encode()}})
		}
	}
	slices.SortFunc(out, func(a, b Dialog) int { return a.InviteAt.Compare(b.InviteAt) })
	return out
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
	return target != nil && cs.end(target, acc.BySystem, "Ended by operator")
}

func firstContact(m *sip.Message) string {
	it := m.Values(sip.HdrContact)
	if v, ok := it.Next(); ok {
		if na, err := sip.ParseNameAddr(v); err == nil {
			return string(na.URI)
		}
	}
	return ""
}
