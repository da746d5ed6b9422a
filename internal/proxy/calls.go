package proxy

import (
	"crypto/rand"
	"encoding/hex"
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
	// What Parley needs to end the call itself with a BYE to each end
	// (§12.2.1.1): each end's remote target (its Contact) and the route set
	// between Parley and it, the From and To of the INVITE, and the highest
	// CSeq each end has used.
	callerContact, calleeContact string
	callerRoute                  []string // Record-Route values of the INVITE, in order: the proxies between the caller and Parley
	calleeRoute                  []string // Record-Route values of the 2xx above ours, reversed: the proxies between Parley and the callee
	fromHdr, toHdr               string   // From and To values of the INVITE, without tags added later
	callerCSeq, calleeCSeq       uint32
	local                        bool // the callee is a user of our domains
	cancelled                    bool
	relayed                      bool // its media goes through rtpengine (media.go): delete it when Parley ends the call
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
	c.callerContact, c.callerRoute = firstContact(req), recordRouteValues(req)
	if c.callerContact == "" {
		c.callerContact = string(req.From.URI) // no Contact: the best remote target there is
	}
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
// forked INVITE are other dialogs Parley does not track. calleeRoute is the
// route set from Parley to the callee (Proxy.calleeRoutes).
func (cs *Calls) answered(c *call, res *sip.Message, callee transport.Dest, calleeRoute []string) {
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
	c.calleeContact, c.calleeRoute = firstContact(res), calleeRoute
	if c.calleeContact == "" {
		c.calleeContact = string(res.To.URI)
	}
	delete(cs.early, key([]byte(c.rec.CallID), []byte(c.fromTag), nil))
	cs.dlgs[key([]byte(c.rec.CallID), []byte(c.fromTag), []byte(c.toTag))] = c
	if cs.maxDuration > 0 {
		c.timer = time.AfterFunc(cs.maxDuration, func() { cs.end(c, acc.ByTimeout, "Call duration limit", nil) })
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
	r, ok := cs.terminateLocked(c)
	cs.mu.Unlock()
	if ok {
		cs.write(r, by)
	}
	return ok
}

// terminateLocked ends a confirmed dialog and returns its record so far; ok
// is false when it was not confirmed (already ended, or never answered).
// cs.mu must be held.
func (cs *Calls) terminateLocked(c *call) (r acc.Record, ok bool) {
	if c.state != Confirmed {
		return r, false
	}
	c.state = Terminated
	if c.timer != nil {
		c.timer.Stop()
	}
	delete(cs.dlgs, key([]byte(c.rec.CallID), []byte(c.fromTag), []byte(c.toTag)))
	return c.rec, true
}

// write completes the record of an answered call that ended now and hands it on.
func (cs *Calls) write(r acc.Record, by acc.HangupBy) {
	r.EndAt, r.HangupBy, r.Disposition = cs.now(), by, acc.Answered
	r.Duration = r.EndAt.Sub(r.AnswerAt).Seconds()
	cs.rec.Record(r)
}

// mediaRelayed notes that an answered call's media goes through rtpengine.
func (cs *Calls) mediaRelayed(c *call) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	c.relayed = true
	cs.mu.Unlock()
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
	// CallerRoute and CalleeRoute are the dialog's route sets on each side
	// of Parley (§12.1): the proxies between the caller and Parley, and
	// between Parley and the callee, in the order a request to that end takes.
	CallerRoute []string `json:"caller_route,omitempty"`
	CalleeRoute []string `json:"callee_route,omitempty"`
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
				Route: []string{c.caller.encode(), c.callee.encode()}, CallerRoute: c.callerRoute, CalleeRoute: c.calleeRoute})
		}
	}
	slices.SortFunc(out, func(a, b Dialog) int { return a.InviteAt.Compare(b.InviteAt) })
	return out
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

// recordRouteValues returns the Record-Route values of m, in order.
func recordRouteValues(m *sip.Message) []string {
	var out []string
	it := m.Values(sip.HdrRecordRoute)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		out = append(out, string(v))
	}
	return out
}
