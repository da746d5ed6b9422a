package phones

import (
	"regexp"

	"github.com/parley-sip/parley/internal/proctest"
)

// ---- scenario 5: busy ----

func (b *bench) busy(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb := p.alice.mark(), p.bob.mark()
	ta, tb := p.alice.traceMark(), p.bob.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return err
	}
	id := in.ID()
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return err
	}
	if _, err := p.bob.cmd("hangup", ""); err != nil { // baresip 1.0.0: 486
		return err
	}
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, id)
	if err != nil {
		return err
	}
	if final.code() != 486 {
		return withDetail(failf("bob answered 486, alice got %q", final.start), "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	// Parley's client transaction ACKs bob's 486 (§17.1.1.3) and alice ACKs Parley's.
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("bob's 486 was never ACKed: %s", p.bob.traceSummary(b.srv, tb))
	}
	return nil
}

// ---- scenario 6: decline ----

func (b *bench) decline(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	// baresip 1.0.0's hangup takes no status code (always 486); `hangup
	// scode=603` exists only in later releases. linphonec's `terminate` on an
	// incoming call sends 603 Decline.
	if err := b.needCarol(p, "baresip 1.0.0 cannot send 603 and "); err != nil {
		return err
	}
	l := p.carol
	if err := l.autoanswer(false); err != nil {
		return err
	}
	defer l.autoanswer(true)
	ma, ml := p.alice.mark(), l.mark()
	ta := p.alice.traceMark()
	if _, err := p.alice.cmd("dial", "sip:carol@"+domain); err != nil {
		return err
	}
	if _, err := l.waitOut(ml, evWait, regexp.MustCompile(`Receiving new incoming call from [^\n]*alice`)); err != nil {
		return withDetail(failf("linphonec carol did not see alice's call"), "\n"+err.Error()+"\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	l.send("terminate")
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, "")
	if err != nil {
		return err
	}
	if final.code() != 603 {
		return withDetail(failf("carol declined (603), alice got %q", final.start), "\n"+proctest.Tail(l.debug(), 4000))
	}
	return nil
}

// linphoneCalls: carol on linphonec calls alice (auto-answer), RTP flows
// directly, carol hangs up.
func (b *bench) linphoneCalls(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if err := b.needCarol(p, ""); err != nil {
		return err
	}
	l := p.carol
	ma, ml := p.alice.mark(), l.mark()
	ta := p.alice.traceMark()
	l.send("call sip:alice@" + domain)
	ev, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", nil)
	if err != nil {
		return withDetail(err, "\nlinphonec:\n"+proctest.Tail(l.p.Log(), 1500)+"\n"+proctest.Tail(l.debug(), 5000))
	}
	id := ev.ID()
	if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*alice[^\n]* connected`)); err != nil {
		return err
	}
	if err := b.checkRTPLinphone(p.alice, l, l.logMark()); err != nil {
		return err
	}
	ma = p.alice.mark()
	l.send("terminate")
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", func(e event) bool { return e.ID() == id }); err != nil {
		return err
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "BYE" && m.code() == 0 && !p.alice.sent(b.srv, m) }); !ok {
		return failf("alice received no BYE from carol: %s", p.alice.traceSummary(b.srv, ta))
	}
	return nil
}

// ---- scenario 7: CANCEL ----

func (b *bench) cancel(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb := p.alice.mark(), p.bob.mark()
	ta, tb := p.alice.traceMark(), p.bob.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return err
	}
	id := in.ID()
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return err
	}
	if _, err := p.alice.cmd("hangup", ""); err != nil { // ringing outgoing call: CANCEL
		return err
	}
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return withDetail(err, "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && p.alice.sent(b.srv, m) }); !ok {
		return failf("alice sent no CANCEL: %s", p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.cseqMethod() == "CANCEL" && m.code() == 200 }); !ok {
		return failf("alice's CANCEL got no 200: %s", p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("bob received no CANCEL: %s", p.bob.traceSummary(b.srv, tb))
	}
	final, err := b.finalResponse(p.alice, ta, id)
	if err != nil {
		return err
	}
	if final.code() != 487 {
		return failf("after CANCEL alice's INVITE got %q, want 487: %s", final.start, p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && p.alice.sent(b.srv, m) }); !ok {
		return failf("alice did not ACK the 487: %s", p.alice.traceSummary(b.srv, ta))
	}
	return nil
}

// ---- scenarios 8 and 9: 404 ----

func (b *bench) notFound(p *pair, user string) error {
	if err := needReg(p); err != nil {
		return err
	}
	ma := p.alice.mark()
	ta := p.alice.traceMark()
	if _, err := p.alice.cmd("dial", "sip:"+user+"@"+domain); err != nil {
		return err
	}
	if _, err := p.alice.waitEvent(ma, evWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, "")
	if err != nil {
		return err
	}
	if final.code() != 404 {
		return failf("INVITE sip:%s@%s got %q, want 404: %s", user, domain, final.start, p.alice.traceSummary(b.srv, ta))
	}
	return nil
}
