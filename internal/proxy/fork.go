package proxy

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// target is one destination of a forked request.
type target struct {
	uri     string // new Request-URI (a contact), unless keepURI
	keepURI bool
	path    []string
	q       int
	expires int
	dest    transport.Dest
	alt     []transport.Dest // further destinations of the same next hop, in order (RFC 3263 §4.3, resolve.go)
}

// groupByQ orders targets for serial forking by q-value, highest first;
// targets with equal q are tried in parallel (§16.6, §16.7 step 1).
func groupByQ(ts []target) [][]target {
	slices.SortStableFunc(ts, func(a, b target) int { return b.q - a.q })
	var groups [][]target
	for i, t := range ts {
		if i == 0 || t.q != ts[i-1].q {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], t)
	}
	return groups
}

// forker is the response context of one proxied request (§16.7).
type forker struct {
	p      *Proxy
	tx     sipserver.ServerTx
	req    *sip.Message
	rt     *routing
	src    transaction.Source
	loop   uint64
	invite bool
	wake   chan struct{}

	mu         sync.Mutex
	live       []*branch
	best       *sip.Message // best final non-2xx response so far (a private copy)
	bestCode   int
	challenges []byte // WWW-/Proxy-Authenticate lines of every 401/407 (§16.7 step 7)
	answered   bool   // a 2xx went upstream
	stop       bool   // a 6xx arrived: no further branches (§16.7 step 5)
	finalSent  bool
	cancelled  bool            // the caller's CANCEL arrived (§16.10)
	more       []target        // contacts of 3xx responses to try (proxy.follow_3xx)
	tried      map[string]bool // Request-URIs already tried: a URI is in the target set once (§16.5)
	call       *call           // the call record and dialog of an initial INVITE, or nil
	media      *mediaLeg       // the relay's offer for the crossing targets (media.go), or nil
}

// branch is one client transaction of a forker; its fields are guarded by forker.mu.
type branch struct {
	id          string // the branch parameter of our Via
	dest        transport.Dest
	tgt         target // what the branch was started for: failover takes tgt.alt (resolve.go)
	ct          *transaction.ClientTx
	timerC      *time.Timer // Timer C (§16.8); after Timer C's CANCEL, the 64*T1 give-up
	provisional bool
	cancelled   bool // a CANCEL went out (or waits for a provisional, §9.1)
	timedOut    bool // Timer C cancelled it: its 487 means that nobody answered
	done        bool
}

func newForker(p *Proxy, tx sipserver.ServerTx, req *sip.Message, rt *routing) *forker {
	return &forker{p: p, tx: tx, req: req, rt: rt, src: tx.Origin(), loop: p.loopHash(req, rt),
		invite: req.Method() == sip.INVITE, wake: make(chan struct{}, 1)}
}

// run forks to each group of targets in turn and sends the best response.
func (f *forker) run(ctx context.Context, groups [][]target) error {
	groups, err := f.mediaOffer(ctx, groups) // media.go: 488 or 503 when a needed relay fails
	if err != nil {
		return err
	}
	defer f.mediaDone(f.req.Method(), string(f.req.CallID))
	for len(groups) > 0 {
		g := groups[0]
		groups = groups[1:]
		for _, t := range g {
			f.start(t)
		}
		f.wait(ctx)
		f.mu.Lock()
		end := f.answered || f.stop || ctx.Err() != nil
		if len(f.more) > 0 {
			groups = append(groups, groupByQ(f.more)...)
			f.more = nil
		}
		f.mu.Unlock()
		if end {
			break
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.finalSent {
		f.sendBest()
	}
	f.req, f.best, f.rt = nil, nil, nil // late branch responses need none of them; free them now
	return nil
}

// wait returns when every branch has ended. A CANCEL (ctx) cancels the
// pending branches (§16.10), whose 487s then end them; if they stay silent,
// they are given up after 64*T1 (§9.1).
func (f *forker) wait(ctx context.Context) {
	done := ctx.Done()
	var giveUp <-chan time.Time
	for {
		f.mu.Lock()
		n := len(f.live)
		f.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-f.wake:
		case <-done:
			done = nil
			f.p.calls.cancel(f.call)
			f.mu.Lock()
			f.cancelled = true
			f.cancelAll(nil, nil)
			f.mu.Unlock()
			giveUp = time.After(64 * f.p.txl.Timers().T1)
		case <-giveUp:
			f.mu.Lock()
			for _, b := range slices.Clone(f.live) {
				f.abandon(b)
				f.endLocked(b, 487, nil)
			}
			f.mu.Unlock()
		}
	}
}

// start forwards the request to one target (§16.6).
func (f *forker) start(t target) {
	id := f.p.txl.SignBranch(&f.req.Via, newBranch(f.loop)) // signed: a stray response to it is ours to relay
	data, local, err := f.p.prepare(f.req, f.rt, f.src, t, id)
	if err != nil {
		f.p.log.Warn("cannot forward", "err", err)
		f.record(503, nil)
		return
	}
	t.dest.Local = local
	data = f.mediaBody(t, data) // media.go: the relay's SDP for a crossing target
	b := &branch{id: id, dest: t.dest, tgt: t}
	uri := t.uri
	if t.keepURI || uri == "" {
		uri = string(f.req.RequestURI())
	}
	f.p.calls.tried(f.call, uri)
	f.mu.Lock()
	if f.tried == nil {
		f.tried = make(map[string]bool)
	}
	f.tried[uri] = true
	f.live = append(f.live, b)
	f.mu.Unlock()
	ct, err := f.p.txl.Request(t.dest, data, func(ct *transaction.ClientTx, res *sip.Message) { f.onResponse(b, ct, res) })
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.p.log.Debug("branch failed", "dest", t.dest.Addr, "err", err)
		f.failLocked(b, 503) // §17.1.4: a transport error is a 503; resolve.go may try the next destination
		return
	}
	b.ct = ct
	if f.invite && !b.done {
		b.timerC = time.AfterFunc(f.p.cfg.TimerC, func() { f.onTimerC(b) })
	}
}

// endLocked ends a branch, recording its final response; mu is held.
func (f *forker) endLocked(b *branch, code int, res *sip.Message) {
	if b.done {
		return
	}
	b.done = true
	if b.timerC != nil {
		b.timerC.Stop()
	}
	if i := slices.Index(f.live, b); i >= 0 {
		f.live = slices.Delete(f.live, i, i+1)
	}
	if code != 0 {
		f.record(code, res)
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// abandon terminates the client transaction of a branch given up before
// its final response, and remembers the branch so that a 2xx arriving
// later is ended by Parley (lateBranches); mu is held.
func (f *forker) abandon(b *branch) {
	if b.ct != nil {
		b.ct.Terminate()
	}
	if f.invite {
		f.p.late.add(b.id, b.dest)
	}
}

var answeredElsewhere = []byte("Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n")

// cancelAll cancels every pending INVITE branch but except (§16.7 step 10,
// §16.10), with extra header lines on the CANCELs; mu is held.
func (f *forker) cancelAll(except *branch, extra []byte) {
	if !f.invite {
		return
	}
	for _, b := range f.live {
		if b != except && b.ct != nil {
			b.cancelled = true
			b.ct.CancelWith(extra)
		}
	}
}

// onTimerC ends a branch that has had no final response for Timer C (§16.8).
// One that got a provisional is cancelled; if the callee ignores the CANCEL
// it is given up 64*T1 later as a 408 (§9.1). Its later 1xx no longer restart
// Timer C, and its 487 counts as a 408: the callee did not answer. One with
// no provisional may not be cancelled (§9.1): it ends as if a 408 had come,
// its client transaction terminated. A branch the caller's CANCEL already
// cancelled is left to that CANCEL.
func (f *forker) onTimerC(b *branch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.done || b.cancelled {
		return
	}
	if b.provisional && b.ct != nil {
		b.cancelled, b.timedOut = true, true
		b.ct.Cancel()
		b.timerC = time.AfterFunc(64*f.p.txl.Timers().T1, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if !b.done {
				f.abandon(b) // §9.1: the callee ignored the CANCEL
				f.endLocked(b, 408, nil)
			}
		})
		return
	}
	f.abandon(b)
	f.endLocked(b, 408, nil)
}

// maxTargets bounds the target set of one request, 3xx recursion included.
const maxTargets = 32

func formatQ(q int) string { return strconv.FormatFloat(float64(q)/1000, 'f', -1, 64) }
