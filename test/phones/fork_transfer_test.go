package phones

import (
	"regexp"
	"strings"

	"github.com/parley-sip/parley/internal/proctest"
)

// ---- scenario 10: forking ----

func (b *bench) fork(p *pair, extra *[]*baresip) error {
	if err := needReg(p); err != nil {
		return err
	}
	b2, err := startBaresip(b.t, b.baresip, "bob2/"+p.tr, b.certBoth, b.pp)
	if err != nil {
		return err
	}
	*extra = append(*extra, b2)
	defer b2.quit() // un-REGISTERs the second binding
	if err := b2.register("bob", users["bob"], p.tr, b.srv.addr[p.tr], "manual"); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb, m2 := p.alice.mark(), p.bob.mark(), b2.mark()
	ta, tb, t2 := p.alice.traceMark(), p.bob.traceMark(), b2.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in1, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return withDetail(failf("the first registration did not ring: %v", err), "\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	in2, err := b2.waitEvent(m2, shortWait, "CALL_INCOMING", nil)
	if err != nil {
		return withDetail(failf("the second registration did not ring: %v", err), "\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	id := in1.ID()
	if in2.ID() != id {
		return failf("the two branches have different Call-IDs %s and %s", id, in2.ID())
	}
	if _, err := b2.cmd("accept", ""); err != nil {
		return err
	}
	if _, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", nil); err != nil {
		return err
	}
	if _, err := b2.waitEvent(m2, shortWait, "CALL_ESTABLISHED", nil); err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return withDetail(failf("the ringing branch was not cancelled: %v", err), "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("the other branch got no CANCEL: %s", p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.code() == 487 && p.bob.sent(b.srv, m) }); !ok {
		return failf("the cancelled branch did not answer 487: %s", p.bob.traceSummary(b.srv, tb))
	}
	// alice saw one 2xx, from the branch that answered, and talks to it.
	ok2, found := b2.findMsg(t2, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "INVITE" && m.callID() == id && b2.sent(b.srv, m)
	})
	if !found {
		return failf("the answering phone's trace has no 200 it sent: %s", b2.traceSummary(b.srv, t2))
	}
	n2xx := 0
	for _, m := range p.alice.trace()[ta:] {
		if m.code() >= 200 && m.code() < 300 && m.cseqMethod() == "INVITE" {
			n2xx++
			if m.get("contact") != ok2.get("contact") {
				return failf("alice got a 2xx whose Contact %q is not the answering phone's %q", m.get("contact"), ok2.get("contact"))
			}
		}
	}
	if n2xx == 0 {
		return failf("alice's trace has no 2xx: %s", p.alice.traceSummary(b.srv, ta))
	}
	if err := b.checkRTP(p.alice, b2); err != nil {
		return err
	}
	m2 = b2.mark()
	if _, err := p.alice.cmd("hangup", ""); err != nil {
		return err
	}
	if _, err := b2.waitEvent(m2, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	return nil
}

// ---- scenario 11: blind transfer ----

func (b *bench) transfer(p *pair, extra *[]*baresip) error {
	if err := needReg(p); err != nil {
		return err
	}
	// The transfer target is carol: linphonec if it runs, else a third baresip.
	var target *baresip
	l := p.carol
	if l == nil || !l.p.Running() {
		l = nil
		c, err := startBaresip(b.t, b.baresip, "carol/"+p.tr, b.certBoth, b.pp)
		if err != nil {
			return err
		}
		*extra = append(*extra, c)
		defer c.quit()
		if err := c.register("carol", users["carol"], p.tr, b.srv.addr[p.tr], "auto"); err != nil {
			return err
		}
		target = c
	}
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return err
	}
	ma, mb := p.alice.mark(), p.bob.mark()
	tb := p.bob.traceMark()
	var ml, mt int
	if l != nil {
		ml = l.mark()
	} else {
		mt = target.mark()
	}
	if _, err := p.bob.cmd("transfer", "sip:carol@"+domain); err != nil {
		return err
	}
	if _, ok := p.bob.findMsg(tb, shortWait, func(m sipMsg) bool { return m.code() == 202 && m.cseqMethod() == "REFER" }); !ok {
		return failf("bob's REFER got no 202: %s", p.bob.traceSummary(b.srv, tb))
	}
	newCall, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", func(e event) bool { return e.ID() != id && strings.Contains(e.Peer(), "carol") })
	if err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", func(e event) bool { return e.ID() == id }); err != nil {
		return err
	}
	if l != nil {
		if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*alice[^\n]* connected`)); err != nil {
			return err
		}
		// RTP between linphonec's audio port and alice, directly.
		if err := b.checkRTPLinphone(p.alice, l, l.logMark()); err != nil {
			return failf("after the transfer: %v", err)
		}
		ml = l.mark()
		if _, err := p.alice.cmd("hangup", ""); err != nil {
			return err
		}
		if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]* ended`)); err != nil {
			return err
		}
	} else {
		if _, err := target.waitEvent(mt, shortWait, "CALL_ESTABLISHED", func(e event) bool { return e.ID() == newCall.ID() }); err != nil {
			return err
		}
		if err := b.checkRTP(p.alice, target); err != nil {
			return err
		}
	}
	return nil
}

// ---- scenario 12: re-INVITE ----

func (b *bench) reinvite(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return err
	}
	ok2xx := func(tm int, dir string) error {
		inv, ok := p.alice.findMsg(tm, shortWait, func(m sipMsg) bool {
			return m.code() == 0 && m.method() == "INVITE" && m.callID() == id && p.alice.sent(b.srv, m)
		})
		if !ok {
			return failf("alice sent no re-INVITE: %s", p.alice.traceSummary(b.srv, tm))
		}
		if dir != "" && !strings.Contains(inv.body, "a="+dir) {
			return withDetail(failf("alice's re-INVITE has no a=%s", dir), inv.full())
		}
		resp, ok := p.alice.findMsg(tm, shortWait, func(m sipMsg) bool {
			return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" && m.cseqNum() >= inv.cseqNum() && m.callID() == id
		})
		if !ok {
			return failf("alice's re-INVITE got no final response: %s", p.alice.traceSummary(b.srv, tm))
		}
		if resp.code() != 200 {
			return failf("re-INVITE (%s) got %q: %s", dir, resp.start, p.alice.traceSummary(b.srv, tm))
		}
		if _, ok := p.alice.findMsg(tm, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && m.cseqNum() == resp.cseqNum() }); !ok {
			return failf("alice sent no ACK for the re-INVITE's 200: %s", p.alice.traceSummary(b.srv, tm))
		}
		return nil
	}
	for _, step := range []struct{ cmd, dir string }{{"hold", "sendonly"}, {"resume", "sendrecv"}, {"reinvite", ""}} {
		tm := p.alice.traceMark()
		if _, err := p.alice.cmd(step.cmd, ""); err != nil {
			return err
		}
		if err := ok2xx(tm, step.dir); err != nil {
			return failf("%s: %v", step.cmd, err)
		}
	}
	// The call goes on: both still have it and media flows both ways.
	for _, ph := range []*baresip{p.alice, p.bob} {
		if n, err := ph.calls(); err != nil || n != 1 {
			return failf("%s has %d calls after the re-INVITEs (%v)", ph.name, n, err)
		}
	}
	before, err := p.bob.audioDebug()
	if err != nil {
		return err
	}
	if err := b.checkRTP(p.alice, p.bob); err != nil {
		return err
	}
	// RTP keeps reaching bob after the re-INVITEs (some 10 more packets).
	var after audioStats
	proctest.WaitFor(rtpWait, func() bool {
		after, err = p.bob.audioDebug()
		return err == nil && after.rcvd[before.remote] > before.rcvd[before.remote]+10
	})
	if err != nil {
		return err
	}
	if after.rcvd[before.remote] <= before.rcvd[before.remote]+10 {
		return failf("no RTP reached bob after the re-INVITEs (%d → %d packets)", before.rcvd[before.remote], after.rcvd[before.remote])
	}
	return nil
}

// ---- extra: a call that changes transport ----

// crossTransport: erin on UDP calls bob on p.tr, so Parley changes
// transport inside the call (two Record-Route entries, RFC 5658); RTP flows
// directly, then the caller re-INVITEs and the callee hangs up.
func (b *bench) crossTransport(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	c, err := startBaresip(b.t, b.baresip, "erin/udp", b.certBoth, b.pp)
	if err != nil {
		return err
	}
	defer c.quit()
	if err := c.register("erin", users["erin"], "udp", b.srv.addr["udp"], "auto"); err != nil {
		return err
	}
	tc := c.traceMark()
	id, err := dial(c, p.bob, "bob")
	if err != nil {
		return withDetail(err, phoneLogs(c, p.bob))
	}
	if err := b.checkRTP(c, p.bob); err != nil {
		return err
	}
	ok, found := c.findMsg(tc, msgWait, func(m sipMsg) bool { return m.code() == 200 && m.cseqMethod() == "INVITE" && m.callID() == id })
	if !found {
		return failf("erin got no 200 for the INVITE: %s", c.traceSummary(b.srv, tc))
	}
	if rr := ok.hdr["record-route"]; len(rr) == 0 {
		return withDetail(failf("the 200 erin got has no Record-Route"), ok.full())
	}
	tm := c.traceMark()
	if _, err := c.cmd("reinvite", ""); err != nil {
		return err
	}
	if m, ok := c.findMsg(tm, shortWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.cseqMethod() == "INVITE" && m.callID() == id
	}); !ok || m.code() != 200 {
		return failf("erin's re-INVITE across transports: %s", c.traceSummary(b.srv, tm))
	}
	mb, mc := p.bob.mark(), c.mark()
	tc = c.traceMark()
	if _, err := p.bob.cmd("hangup", ""); err != nil {
		return err
	}
	if _, err := c.waitEvent(mc, shortWait, "CALL_CLOSED", func(e event) bool { return e.ID() == id }); err != nil {
		return withDetail(err, "\nerin: "+c.traceSummary(b.srv, tc))
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	return nil
}
