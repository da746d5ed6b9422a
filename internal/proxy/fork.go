package proxy

import (
	"context"
	"errors"
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
	more       []target        // contacts of 3xx responses to try (proxy.follow_3xx)
	tried      map[string]bool // Request-URIs already tried: a URI is in the target set once (§16.5)
	call       *call           // the call record and dialog of an initial INVITE, or nil
}

type branch struct {
	dest        transport.Dest
	ct          *transaction.ClientTx
	timerC      *time.Timer
	provisional bool
	done        bool
}

func newForker(p *Proxy, tx sipserver.ServerTx, req *sip.Message, rt *routing) *forker {
	return &forker{p: p, tx: tx, req: req, rt: rt, src: tx.Origin(), loop: p.loopHash(req),
		invite: req.Method() == sip.INVITE, wake: make(chan struct{}, 1)}
}

// run forks to each group of targets in turn and sends the best response.
func (f *forker) run(ctx context.Context, groups [][]target) error {
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
			f.cancelAll(nil, nil)
			f.mu.Unlock()
			giveUp = time.After(64 * f.p.txl.Timers().T1)
		case <-giveUp:
			f.mu.Lock()
			for _, b := range slices.Clone(f.live) {
				if b.ct != nil {
					b.ct.Terminate()
				}
				f.endLocked(b, 487, nil)
			}
			f.mu.Unlock()
		}
	}
}

// start forwards the request to one target (§16.6).
func (f *forker) start(t target) {
	data, local, err := f.p.prepare(f.req, f.rt, f.src, t, f.loop)
	if err != nil {
		f.p.log.Warn("cannot forward", "err", err)
		f.record(503, nil)
		return
	}
	t.dest.Local = local
	b := &branch{dest: t.dest}
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
	f.mu.Unlock()
	f.mu.Lock()
	f.live = append(f.live, b)
	f.mu.Unlock()
	ct, err := f.p.txl.Request(t.dest, data, func(ct *transaction.ClientTx, res *sip.Message) { f.onResponse(b, ct, res) })
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.p.log.Debug("branch failed", "dest", t.dest.Addr, "err", err)
		f.endLocked(b, 503, nil) // §17.1.4: a transport error is a 503
		return
	}
	b.ct = ct
	if f.invite && !b.done {
		b.timerC = time.AfterFunc(f.p.cfg.TimerC, func() { f.onTimerC(b) })
	}
}

// onResponse handles one response of a branch (§16.7).
func (f *forker) onResponse(b *branch, ct *transaction.ClientTx, res *sip.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.ct == nil {
		b.ct = ct
	}
	if res == nil {
		code := 408 // Timer B or F
		if errors.Is(ct.Err(), transaction.ErrTransport) {
			code = 503
		}
		f.endLocked(b, code, nil)
		return
	}
	switch code := res.StatusCode(); {
	case code == 100: // §16.7 step 5: 100 is not forwarded
	case code < 200:
		b.provisional = true
		if b.timerC != nil {
			b.timerC.Reset(f.p.cfg.TimerC) // §16.8: a provisional restarts Timer C
		}
		if code >= 180 {
			f.p.calls.ringing(f.call)
		}
		if !f.finalSent {
			f.forward(res)
		}
	case code < 300:
		f.p.calls.answered(f.call, res, b.dest)
		f.forward(res) // §16.7 step 5: every 2xx goes upstream at once
		f.answered, f.finalSent = true, true
		f.endLocked(b, 0, nil)
		f.cancelAll(b, answeredElsewhere) // RFC 3326: phones then log no missed call
	default:
		if code >= 600 {
			f.stop = true
			f.cancelAll(b, nil)
		}
		if code < 400 && f.p.cfg.Follow3xx && f.follow(res) {
			f.endLocked(b, 0, nil)
			return
		}
		f.endLocked(b, code, res)
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

var answeredElsewhere = []byte("Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n")

// cancelAll cancels every pending INVITE branch but except (§16.7 step 10,
// §16.10), with extra header lines on the CANCELs.
func (f *forker) cancelAll(except *branch, extra []byte) {
	if !f.invite {
		return
	}
	for _, b := range f.live {
		if b != except && b.ct != nil {
			b.ct.CancelWith(extra)
		}
	}
}

// onTimerC cancels a branch that got a provisional response, or ends a silent
// one as 408 (§16.8).
func (f *forker) onTimerC(b *branch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.done {
		return
	}
	if b.provisional && b.ct != nil {
		b.ct.Cancel()
		b.timerC = time.AfterFunc(64*f.p.txl.Timers().T1, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if !b.done && b.ct != nil {
				b.ct.Terminate() // §9.1: the callee ignored the CANCEL
			}
			f.endLocked(b, 408, nil)
		})
		return
	}
	f.endLocked(b, 408, nil)
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

// follow adds the contacts of a 3xx as new targets (§16.7 step 4); it reports
// whether there was any.
func (f *forker) follow(res *sip.Message) bool {
	n := 0
	it := res.Values(sip.HdrContact)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		na, err := sip.ParseNameAddr(v)
		if err != nil || f.tried[string(na.URI)] || len(f.tried) >= maxTargets {
			continue
		}
		d, err := resolve(context.Background(), na.URI)
		if err != nil {
			continue
		}
		q := 1000
		if qv, ok := na.Param("q"); ok {
			if x, err := strconv.ParseFloat(string(qv), 64); err == nil {
				q = int(x * 1000)
			}
		}
		f.more = append(f.more, target{uri: string(na.URI), q: q, dest: d})
		n++
	}
	return n > 0
}

// maxTargets bounds the target set of one request, 3xx recursion included.
const maxTargets = 32

func formatQ(q int) string { return strconv.FormatFloat(float64(q)/1000, 'f', -1, 64) }
func itoa(n int) string    { return strconv.Itoa(n) }
