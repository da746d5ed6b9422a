package phones

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/proctest"
)

// cdrPhase is one Parley (one database, one CDR file) and its phones.
type cdrPhase struct {
	b      *cdrBench
	name   string
	srv    *cdrServer
	db     cdrStore
	stores []cdrStore // db, then file
	alice  *baresip
	bob    *baresip
	erin   *baresip // transfer target
	carol  *linphone
	dave   *linphone // transferee of the linphonec transfer
	wants  []cdrWant
	seen   map[string]bool // Call-IDs of every INVITE the phase made
	timerC time.Duration
	note   string // what a scenario could not check, printed under its line
}

func userOf(p *baresip) string { return strings.Split(p.name, "/")[0] }
func aor(user string) string   { return user + "@" + domain }

// scenario runs one call scenario: f makes the call and says which records
// it must produce; they are then awaited in every store and checked.
func (ph *cdrPhase) scenario(label string, f func(label string) ([]cdrWant, error)) {
	ph.b.r.run(ph.name+"/"+label, func() error {
		ws, err := f(label)
		if err != nil {
			return err
		}
		ph.wants = append(ph.wants, ws...)
		c := waitRecords(ph.stores, 6*time.Second, ws...)
		if ph.note != "" {
			fmt.Printf("    note: %s\n", ph.note)
		}
		return c.err()
	})
	ph.note = ""
	for _, p := range []*baresip{ph.alice, ph.bob, ph.erin} {
		if p != nil {
			p.hangupAll()
		}
	}
}

// finalResp waits for the final response (not 401/407) to ph's INVITE after
// trace mark tm, of Call-ID id ("" for any).
func (ph *cdrPhase) finalResp(p *baresip, tm int, id string) (sipMsg, error) {
	m, ok := p.findMsg(tm, evWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" &&
			(id == "" || m.callID() == id) && !p.sent(ph.srv.parley, m)
	})
	if !ok {
		return m, failf("%s got no final response to its INVITE: %s", p.name, p.traceSummary(ph.srv.parley, tm))
	}
	return m, nil
}

// got reports whether p received (not sent) a request method of Call-ID id after tm.
func (ph *cdrPhase) got(p *baresip, tm int, method, id string) bool {
	_, ok := p.findMsg(tm, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == method && m.callID() == id && !p.sent(ph.srv.parley, m)
	})
	return ok
}

// gotNow reports whether p has received a request method of Call-ID id so far.
func (ph *cdrPhase) gotNow(p *baresip, method, id string) bool {
	_, ok := p.findMsg(0, 0, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == method && m.callID() == id && !p.sent(ph.srv.parley, m)
	})
	return ok
}

// parleyBye checks that p received Parley's own BYE for call id after tm,
// with a Reason header (RFC 3326) containing why, and answered it 200.
func (ph *cdrPhase) parleyBye(p *baresip, tm int, id, why string) error {
	bye, ok := p.findMsg(tm, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "BYE" && m.callID() == id && !p.sent(ph.srv.parley, m)
	})
	if !ok {
		return failf("%s received no BYE from Parley: %s", p.name, p.traceSummary(ph.srv.parley, tm))
	}
	if !strings.Contains(bye.get("reason"), why) {
		return withDetail(failf("Parley's BYE to %s has Reason %q, want text %q", p.name, bye.get("reason"), why), bye.full())
	}
	if _, ok := p.findMsg(tm, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "BYE" && m.callID() == id && p.sent(ph.srv.parley, m)
	}); !ok {
		return withDetail(failf("%s did not answer Parley's BYE with 200: %s", p.name, p.traceSummary(ph.srv.parley, tm)), bye.full())
	}
	return nil
}

// hangup makes the caller (or the callee) hang up call id and waits until
// both phones closed it; the other one must have received the BYE.
func (ph *cdrPhase) hangup(id string, caller, callee *baresip, byCaller bool) error {
	by, other := caller, callee
	if !byCaller {
		by, other = callee, caller
	}
	mb, mo := by.mark(), other.mark()
	to := other.traceMark()
	if _, err := by.cmd("hangup", ""); err != nil {
		return err
	}
	isCall := func(e event) bool { return e.ID() == id }
	if _, err := by.waitEvent(mb, shortWait, "CALL_CLOSED", isCall); err != nil {
		return err
	}
	if _, err := other.waitEvent(mo, shortWait, "CALL_CLOSED", isCall); err != nil {
		return withDetail(err, "\n"+other.name+": "+other.traceSummary(ph.srv.parley, to))
	}
	if !ph.got(other, to, "BYE", id) {
		return failf("%s received no BYE: %s", other.name, other.traceSummary(ph.srv.parley, to))
	}
	return nil
}

// answeredCall: from calls to (auto-answer), they talk for hold, then the
// caller or the callee hangs up.
func (ph *cdrPhase) answeredCall(label string, from, to *baresip, hold time.Duration, byCaller bool) ([]cdrWant, error) {
	tDial := time.Now()
	id, err := dial(from, to, userOf(to))
	if err != nil {
		return nil, withDetail(err, phoneLogs(from, to))
	}
	ph.seen[id] = true
	tEst := time.Now()
	time.Sleep(hold)
	tHang := time.Now()
	if err := ph.hangup(id, from, to, byCaller); err != nil {
		return nil, err
	}
	by := acc.ByCaller
	if !byCaller {
		by = acc.ByCallee
	}
	return []cdrWant{{label: label, callID: id, caller: aor(userOf(from)), callee: aor(userOf(to)),
		disp: acc.Answered, codes: []int{200}, hangupBy: by,
		minDur: tHang.Sub(tEst).Seconds() - 0.05, maxDur: time.Since(tDial).Seconds() + 0.05,
		from: tDial, to: time.Now()}}, nil
}

// busy: bob (manual answer) rings, then rejects: baresip 1.0.0 sends 486.
func (ph *cdrPhase) busy(label string) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	if _, err := b.cmd("answermode", "manual"); err != nil {
		return nil, err
	}
	defer b.cmd("answermode", "auto")
	ma, mb := a.mark(), b.mark()
	ta := a.traceMark()
	tDial := time.Now()
	if _, err := a.cmd("dial", "sip:bob@"+domain); err != nil {
		return nil, err
	}
	in, err := b.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return nil, err
	}
	id := in.ID()
	ph.seen[id] = true
	if _, err := a.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return nil, err
	}
	if _, err := b.cmd("hangup", ""); err != nil {
		return nil, err
	}
	if _, err := a.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, err
	}
	final, err := ph.finalResp(a, ta, id)
	if err != nil {
		return nil, err
	}
	if final.code() != 486 {
		return nil, failf("bob answered 486, alice got %q", final.start)
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.Busy,
		codes: []int{486}, missed: true, ring: true, from: tDial, to: time.Now()}}, nil
}

// decline: carol on linphonec declines alice's call (`terminate` on an
// incoming call sends 603; baresip 1.0.0 cannot).
func (ph *cdrPhase) decline(label string) ([]cdrWant, error) {
	if ph.carol == nil || !ph.carol.p.Running() {
		if ph.b.noLinphone != nil {
			return nil, ph.b.noLinphone
		}
		return nil, failf("linphonec carol is not running")
	}
	a, l := ph.alice, ph.carol
	l.send("autoanswer disable")
	defer l.send("autoanswer enable")
	time.Sleep(200 * time.Millisecond)
	ma, ml := a.mark(), l.mark()
	ta := a.traceMark()
	tDial := time.Now()
	if _, err := a.cmd("dial", "sip:carol@"+domain); err != nil {
		return nil, err
	}
	if _, err := l.waitOut(ml, evWait, regexp.MustCompile(`Receiving new incoming call from [^\n]*alice`)); err != nil {
		return nil, withDetail(failf("linphonec carol did not see alice's call"), "\n"+err.Error()+"\nalice: "+a.traceSummary(ph.srv.parley, ta))
	}
	l.send("terminate")
	if _, err := a.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, err
	}
	final, err := ph.finalResp(a, ta, "")
	if err != nil {
		return nil, err
	}
	ph.seen[final.callID()] = true
	if final.code() != 603 {
		return nil, withDetail(failf("carol declined (603), alice got %q", final.start), "\n"+proctest.Tail(l.debug(), 4000))
	}
	return []cdrWant{{label: label, callID: final.callID(), caller: aor("alice"), callee: aor("carol"),
		disp: acc.Declined, codes: []int{603}, missed: true, from: tDial, to: time.Now()}}, nil
}

// cancel: alice hangs up while bob rings: CANCEL, 487.
func (ph *cdrPhase) cancel(label string) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	if _, err := b.cmd("answermode", "manual"); err != nil {
		return nil, err
	}
	defer b.cmd("answermode", "auto")
	ma, mb := a.mark(), b.mark()
	ta, tb := a.traceMark(), b.traceMark()
	tDial := time.Now()
	if _, err := a.cmd("dial", "sip:bob@"+domain); err != nil {
		return nil, err
	}
	in, err := b.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return nil, err
	}
	id := in.ID()
	ph.seen[id] = true
	if _, err := a.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return nil, err
	}
	if _, err := a.cmd("hangup", ""); err != nil {
		return nil, err
	}
	if _, err := a.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, err
	}
	if _, err := b.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, withDetail(err, "\nbob: "+b.traceSummary(ph.srv.parley, tb))
	}
	if !ph.got(b, tb, "CANCEL", id) {
		return nil, failf("bob received no CANCEL: %s", b.traceSummary(ph.srv.parley, tb))
	}
	final, err := ph.finalResp(a, ta, id)
	if err != nil {
		return nil, err
	}
	if final.code() != 487 {
		return nil, failf("after CANCEL alice's INVITE got %q, want 487", final.start)
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.Cancelled,
		codes: []int{487}, missed: true, ring: true, from: tDial, to: time.Now()}}, nil
}

// noAnswer: bob rings and nobody answers; Timer C (timers.timer_c, 3 s)
// expires, Parley cancels the branch and the caller gets 408 (bob's 487
// answers Parley's CANCEL: nobody answered, as Kamailio's fr_inv_timer says).
func (ph *cdrPhase) noAnswer(label string) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	if _, err := b.cmd("answermode", "manual"); err != nil {
		return nil, err
	}
	defer b.cmd("answermode", "auto")
	ma, mb := a.mark(), b.mark()
	ta, tb := a.traceMark(), b.traceMark()
	tDial := time.Now()
	if _, err := a.cmd("dial", "sip:bob@"+domain); err != nil {
		return nil, err
	}
	in, err := b.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return nil, err
	}
	id := in.ID()
	ph.seen[id] = true
	if _, err := a.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return nil, err
	}
	tRing := time.Now()
	if _, err := a.waitEvent(ma, ph.timerC+2*shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, withDetail(err, "\nalice: "+a.traceSummary(ph.srv.parley, ta))
	}
	rang := time.Since(tRing)
	final, err := ph.finalResp(a, ta, id)
	if err != nil {
		return nil, err
	}
	code := final.code()
	if code != 408 {
		return nil, failf("after Timer C alice got %q, want 408: %s", final.start, a.traceSummary(ph.srv.parley, ta))
	}
	if rang < ph.timerC-500*time.Millisecond || rang > ph.timerC+3*time.Second {
		return nil, failf("the call rang %.1f s before it ended, want about timer_c = %v", rang.Seconds(), ph.timerC)
	}
	if !ph.got(b, tb, "CANCEL", id) {
		return nil, failf("Timer C: bob (who sent 180) received no CANCEL: %s", b.traceSummary(ph.srv.parley, tb))
	}
	if _, err := b.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return nil, err
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.NoAnswer,
		codes: []int{408}, missed: true, ring: true, from: tDial, to: time.Now()}}, nil
}

// notFound: a user nobody registered or created: 404, failed, not missed.
func (ph *cdrPhase) notFound(label string, a *baresip, user string) ([]cdrWant, error) {
	ma := a.mark()
	ta := a.traceMark()
	tDial := time.Now()
	if _, err := a.cmd("dial", "sip:"+user+"@"+domain); err != nil {
		return nil, err
	}
	if _, err := a.waitEvent(ma, evWait, "CALL_CLOSED", nil); err != nil {
		return nil, err
	}
	final, err := ph.finalResp(a, ta, "")
	if err != nil {
		return nil, err
	}
	ph.seen[final.callID()] = true
	if final.code() != 404 {
		return nil, failf("INVITE sip:%s@%s got %q, want 404", user, domain, final.start)
	}
	return []cdrWant{{label: label, callID: final.callID(), caller: aor(userOf(a)), callee: aor(user),
		disp: acc.Failed, codes: []int{404}, from: tDial, to: time.Now()}}, nil
}

// reinvite: an answered call put on hold and resumed (two re-INVITEs, each
// answered 200) still makes exactly one record.
func (ph *cdrPhase) reinvite(label string) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	tDial := time.Now()
	id, err := dial(a, b, "bob")
	if err != nil {
		return nil, err
	}
	ph.seen[id] = true
	tEst := time.Now()
	for _, step := range []string{"hold", "resume"} {
		tm := a.traceMark()
		if _, err := a.cmd(step, ""); err != nil {
			return nil, err
		}
		res, ok := a.findMsg(tm, shortWait, func(m sipMsg) bool {
			return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" && m.callID() == id
		})
		if !ok || res.code() != 200 {
			return nil, failf("%s: alice's re-INVITE got no 200: %s", step, a.traceSummary(ph.srv.parley, tm))
		}
		time.Sleep(300 * time.Millisecond)
	}
	n := 0
	for _, m := range a.trace() {
		if m.code() == 0 && m.method() == "INVITE" && m.callID() == id && a.sent(ph.srv.parley, m) {
			n++
		}
	}
	if n < 3 {
		return nil, failf("alice sent %d INVITEs in call %s, want the initial one and two re-INVITEs", n, id)
	}
	tHang := time.Now()
	if err := ph.hangup(id, a, b, true); err != nil {
		return nil, err
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.Answered,
		codes: []int{200}, hangupBy: acc.ByCaller, minDur: tHang.Sub(tEst).Seconds() - 0.05,
		maxDur: time.Since(tDial).Seconds() + 0.05, from: tDial, to: time.Now()}}, nil
}

// transfer: alice calls bob, bob transfers her to erin (REFER), alice calls
// erin; the first record names the transfer target, the second the
// transferor.
func (ph *cdrPhase) transfer(label string) ([]cdrWant, error) {
	a, b, e := ph.alice, ph.bob, ph.erin
	tDial := time.Now()
	id1, err := dial(a, b, "bob")
	if err != nil {
		return nil, err
	}
	ph.seen[id1] = true
	tEst := time.Now()
	ma, mb, me := a.mark(), b.mark(), e.mark()
	ta, tb := a.traceMark(), b.traceMark()
	time.Sleep(300 * time.Millisecond)
	tRefer := time.Now()
	if _, err := b.cmd("transfer", "sip:erin@"+domain); err != nil {
		return nil, err
	}
	if _, ok := b.findMsg(tb, shortWait, func(m sipMsg) bool { return m.code() == 202 && m.cseqMethod() == "REFER" }); !ok {
		return nil, failf("bob's REFER got no 202: %s", b.traceSummary(ph.srv.parley, tb))
	}
	ev, err := a.waitEvent(ma, evWait, "CALL_ESTABLISHED", func(ev event) bool { return ev.ID() != id1 && strings.Contains(ev.Peer(), "erin") })
	if err != nil {
		return nil, withDetail(err, "\nalice: "+a.traceSummary(ph.srv.parley, ta))
	}
	id2 := ev.ID()
	ph.seen[id2] = true
	tEst2 := time.Now()
	if _, err := e.waitEvent(me, shortWait, "CALL_ESTABLISHED", func(ev event) bool { return ev.ID() == id2 }); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		ph *baresip
		m  int
	}{{b, mb}, {a, ma}} {
		if _, err := p.ph.waitEvent(p.m, shortWait, "CALL_CLOSED", func(ev event) bool { return ev.ID() == id1 }); err != nil {
			return nil, withDetail(err, "\nbob: "+b.traceSummary(ph.srv.parley, tb))
		}
	}
	tEnd1 := time.Now()
	// Who hung up the first call: the one whose trace shows it sending the BYE.
	bye, ok := b.findMsg(tb, msgWait, func(m sipMsg) bool { return m.code() == 0 && m.method() == "BYE" && m.callID() == id1 })
	if !ok {
		return nil, failf("no BYE ended the first call: bob %s", b.traceSummary(ph.srv.parley, tb))
	}
	by1 := acc.ByCaller
	if b.sent(ph.srv.parley, bye) {
		by1 = acc.ByCallee
	}
	inv, ok := a.findMsg(ta, msgWait, func(m sipMsg) bool { return m.code() == 0 && m.method() == "INVITE" && m.callID() == id2 })
	referredBy := "bob@" + domain
	if ok && inv.get("referred-by") == "" && inv.get("b") == "" {
		// Nothing in the INVITE says it was referred: referred_by must stay empty.
		referredBy = ""
		ph.note = "baresip 1.0.0 sends no Referred-By (neither in bob's REFER nor in alice's INVITE to erin), so referred_by must stay empty here; blind-transfer-refer-linphonec checks it"
	}
	time.Sleep(500 * time.Millisecond)
	tHang2 := time.Now()
	if err := ph.hangup(id2, a, e, true); err != nil {
		return nil, err
	}
	return []cdrWant{
		{label: label + " (first call)", callID: id1, caller: aor("alice"), callee: aor("bob"), disp: acc.Answered,
			codes: []int{200}, hangupBy: by1, transferTo: "erin@" + domain, minDur: tRefer.Sub(tEst).Seconds() - 0.05,
			maxDur: tEnd1.Sub(tDial).Seconds() + 0.05, from: tDial, to: tEnd1},
		{label: label + " (transferred call)", callID: id2, caller: aor("alice"), callee: aor("erin"), disp: acc.Answered,
			codes: []int{200}, hangupBy: acc.ByCaller, referredBy: referredBy, minDur: tHang2.Sub(tEst2).Seconds() - 0.05,
			maxDur: time.Since(tRefer).Seconds() + 0.05, from: tRefer, to: time.Now()},
	}, nil
}

// operatorEnd: `parley calls` lists the answered call while it lasts, and
// `parley calls end ID` ends it with a BYE to both phones.
func (ph *cdrPhase) operatorEnd(label string) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	tDial := time.Now()
	id, err := dial(a, b, "bob")
	if err != nil {
		return nil, err
	}
	ph.seen[id] = true
	tEst := time.Now()
	items, err := ph.srv.activeCalls()
	if err != nil {
		return nil, err
	}
	var dlg map[string]any
	for _, it := range items {
		if it["call_id"] == id {
			dlg = it
		}
	}
	if dlg == nil {
		return nil, failf("parley calls does not list the answered call %s: %v", id, items)
	}
	if dlg["state"] != "confirmed" || dlg["caller"] != aor("alice") || dlg["callee"] != aor("bob") || dlg["answer_at"] == nil {
		return nil, failf("parley calls lists the call as %v, want confirmed, alice → bob, with answer_at", dlg)
	}
	time.Sleep(500 * time.Millisecond)
	ma, mb := a.mark(), b.mark()
	ta, tb := a.traceMark(), b.traceMark()
	tEnd := time.Now()
	out, err := ph.srv.parleyCalls("end", fmt.Sprint(dlg["id"]))
	if err != nil {
		return nil, err
	}
	if !strings.Contains(out, "ended") {
		return nil, failf("parley calls end printed %q", out)
	}
	var c cdrChecks
	for _, p := range []struct {
		ph *baresip
		m  int
		tm int
	}{{a, ma, ta}, {b, mb, tb}} {
		if _, err := p.ph.waitEvent(p.m, shortWait, "CALL_CLOSED", func(ev event) bool { return ev.ID() == id }); err != nil {
			c.fail("%v; %s's trace: %s", err, p.ph.name, p.ph.traceSummary(ph.srv.parley, p.tm))
			continue
		}
		if err := ph.parleyBye(p.ph, p.tm, id, "SIP"); err != nil {
			c.fail("%v", err)
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if items, err := ph.srv.activeCalls(); err != nil || len(items) != 0 {
		return nil, failf("after parley calls end, parley calls lists %v (%v)", items, err)
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.Answered,
		codes: []int{200}, hangupBy: acc.BySystem, minDur: tEnd.Sub(tEst).Seconds() - 0.05,
		maxDur: time.Since(tDial).Seconds() + 0.05, from: tDial, to: time.Now()}}, nil
}

// maxDuration: calls.max_duration ends an answered call after max with a BYE
// to both phones.
func (ph *cdrPhase) maxDuration(label string, max time.Duration) ([]cdrWant, error) {
	a, b := ph.alice, ph.bob
	ma, mb := a.mark(), b.mark()
	ta, tb := a.traceMark(), b.traceMark()
	tDial := time.Now()
	id, err := dial(a, b, "bob")
	if err != nil {
		return nil, err
	}
	ph.seen[id] = true
	tEst := time.Now()
	var c cdrChecks
	for _, p := range []struct {
		ph *baresip
		m  int
		tm int
	}{{a, ma, ta}, {b, mb, tb}} {
		if _, err := p.ph.waitEvent(p.m, max+shortWait, "CALL_CLOSED", func(ev event) bool { return ev.ID() == id }); err != nil {
			c.fail("%v; %s's trace: %s", err, p.ph.name, p.ph.traceSummary(ph.srv.parley, p.tm))
			continue
		}
		if err := ph.parleyBye(p.ph, p.tm, id, "SIP"); err != nil {
			c.fail("%v", err)
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if lasted := time.Since(tEst); lasted < max-300*time.Millisecond {
		return nil, failf("the call ended after %.1f s, before max_duration %v", lasted.Seconds(), max)
	}
	return []cdrWant{{label: label, callID: id, caller: aor("alice"), callee: aor("bob"), disp: acc.Answered,
		codes: []int{200}, hangupBy: acc.ByTimeout, minDur: max.Seconds() - 0.05, maxDur: max.Seconds() + 0.6,
		from: tDial, to: time.Now()}}, nil
}

// lpMsg is one SIP message in liblinphone's log, sent or received.
type lpMsg struct {
	sent bool
	sipMsg
}

var (
	lpMarkRE  = regexp.MustCompile(`(?m)^\S+ \S+ belle-sip-message-channel \[[^\]]*\]: (message sent to|received \[\d+\] new bytes from) \[[^\n]*\n`)
	lpStampRE = regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3} `)
)

// lpMessages parses the SIP messages of a liblinphone log.
func lpMessages(log string) []lpMsg {
	var out []lpMsg
	for _, loc := range lpMarkRE.FindAllStringSubmatchIndex(log, -1) {
		text := log[loc[1]:]
		if end := lpStampRE.FindStringIndex(text); end != nil {
			text = text[:end[0]]
		}
		text = strings.ReplaceAll(text, "\r\n", "\n")
		head, body, _ := strings.Cut(text, "\n\n")
		lines := strings.Split(head, "\n")
		m := sipMsg{start: strings.TrimSpace(lines[0]), hdr: map[string][]string{}, body: strings.TrimSpace(body)}
		if m.start == "" {
			continue
		}
		for _, l := range lines[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok {
				k = strings.ToLower(strings.TrimSpace(k))
				m.hdr[k] = append(m.hdr[k], strings.TrimSpace(v))
			}
		}
		out = append(out, lpMsg{sent: log[loc[2]:loc[3]] == "message sent to", sipMsg: m})
	}
	return out
}

// lpFind waits up to d for a message in l's log after the first skip
// messages for which match is true.
func lpFind(l *linphone, skip int, d time.Duration, match func(lpMsg) bool) (lpMsg, bool) {
	var found lpMsg
	ok := proctest.WaitFor(d, func() bool {
		ms := lpMessages(l.debug())
		for _, m := range ms[min(skip, len(ms)):] {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, ok
}

// referredBy is the Referred-By (or compact b) header of m.
func referredByOf(m sipMsg) string {
	if v := m.get("referred-by"); v != "" {
		return v
	}
	return m.get("b")
}

// transferLinphone: carol and dave on linphonec; carol calls dave and
// transfers him to erin (baresip). liblinphone puts a Referred-By in its REFER
// and, as transferee, copies it into the INVITE (baresip 1.0.0 does neither,
// see transfer), so this is where referred_by is checked.
func (ph *cdrPhase) transferLinphone(label string) ([]cdrWant, error) {
	if ph.carol == nil || ph.dave == nil || !ph.carol.p.Running() || !ph.dave.p.Running() {
		if ph.b.noLinphone != nil {
			return nil, ph.b.noLinphone
		}
		return nil, failf("linphonec carol or dave is not running")
	}
	c, d, e := ph.carol, ph.dave, ph.erin
	cm, dm := len(lpMessages(c.debug())), len(lpMessages(d.debug()))
	mc, md, me := c.mark(), d.mark(), e.mark()
	tDial := time.Now()
	c.send("call sip:dave@" + domain)
	if _, err := d.waitOut(md, evWait, regexp.MustCompile(`Call \d+ with [^\n]*carol[^\n]* connected`)); err != nil {
		return nil, withDetail(err, "\ncarol:\n"+proctest.Tail(c.p.Log(), 1500))
	}
	if _, err := c.waitOut(mc, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*dave[^\n]* connected`)); err != nil {
		return nil, err
	}
	tEst := time.Now()
	inv1, ok := lpFind(c, cm, msgWait, func(m lpMsg) bool { return m.sent && strings.HasPrefix(m.start, "INVITE sip:dave@") })
	if !ok {
		return nil, failf("carol's INVITE to dave is not in liblinphone's log")
	}
	id1 := inv1.callID()
	ph.seen[id1] = true
	time.Sleep(300 * time.Millisecond)
	tRefer := time.Now()
	c.send("transfer sip:erin@" + domain)
	refer, ok := lpFind(c, cm, shortWait, func(m lpMsg) bool { return m.sent && m.method() == "REFER" && m.code() == 0 })
	if !ok {
		return nil, failf("carol sent no REFER")
	}
	if _, ok := lpFind(c, cm, shortWait, func(m lpMsg) bool { return !m.sent && m.code() == 202 && m.cseqMethod() == "REFER" }); !ok {
		return nil, failf("carol's REFER got no 202")
	}
	ev, err := e.waitEvent(me, evWait, "CALL_ESTABLISHED", func(ev event) bool { return strings.Contains(ev.Peer(), "dave") })
	if err != nil {
		return nil, withDetail(err, "\ndave:\n"+proctest.Tail(d.p.Log(), 1500))
	}
	id2 := ev.ID()
	ph.seen[id2] = true
	tEst2 := time.Now()
	// The first call: ended by one of them after the transfer, or by carol now.
	end1 := regexp.MustCompile(`Call \d+ with [^\n]*carol[^\n]* ended`)
	if _, err := d.waitOut(md, 3*time.Second, end1); err != nil {
		c.send("terminate all")
		if _, err := d.waitOut(md, shortWait, end1); err != nil {
			return nil, err
		}
	}
	tEnd1 := time.Now()
	bye, ok := lpFind(c, cm, msgWait, func(m lpMsg) bool { return m.method() == "BYE" && m.code() == 0 && m.callID() == id1 })
	if !ok {
		return nil, failf("no BYE of the first call in carol's log")
	}
	by1 := acc.ByCallee
	if bye.sent {
		by1 = acc.ByCaller
	}
	inv2, ok := lpFind(d, dm, msgWait, func(m lpMsg) bool {
		return m.sent && strings.HasPrefix(m.start, "INVITE sip:erin@") && m.callID() == id2 && m.get("proxy-authorization") != ""
	})
	if !ok {
		return nil, failf("dave's INVITE to erin is not in liblinphone's log")
	}
	referredBy := "carol@" + domain
	if referredByOf(inv2.sipMsg) == "" {
		referredBy = ""
		ph.note = fmt.Sprintf("liblinphone sent no Referred-By (REFER has %q, INVITE none), so referred_by must stay empty", referredByOf(refer.sipMsg))
	}
	time.Sleep(500 * time.Millisecond)
	tHang2 := time.Now()
	me, md = e.mark(), d.mark()
	if _, err := e.cmd("hangup", ""); err != nil {
		return nil, err
	}
	if _, err := e.waitEvent(me, shortWait, "CALL_CLOSED", func(ev event) bool { return ev.ID() == id2 }); err != nil {
		return nil, err
	}
	if _, err := d.waitOut(md, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*erin[^\n]* ended`)); err != nil {
		return nil, err
	}
	return []cdrWant{
		{label: label + " (first call)", callID: id1, caller: aor("carol"), callee: aor("dave"), fromName: "carol", disp: acc.Answered,
			codes: []int{200}, hangupBy: by1, transferTo: "erin@" + domain, minDur: tRefer.Sub(tEst).Seconds() - 0.05,
			maxDur: tEnd1.Sub(tDial).Seconds() + 0.05, from: tDial, to: tEnd1},
		{label: label + " (transferred call)", callID: id2, caller: aor("dave"), callee: aor("erin"), disp: acc.Answered,
			codes: []int{200}, hangupBy: acc.ByCallee, referredBy: referredBy, minDur: tHang2.Sub(tEst2).Seconds() - 0.05,
			maxDur: time.Since(tRefer).Seconds() + 0.05, from: tRefer, to: time.Now()},
	}, nil
}
