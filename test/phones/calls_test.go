package phones

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

// ---- scenario 1: REGISTER with digest ----

func (b *bench) register(p *pair) error {
	for _, ph := range []struct {
		c    *baresip
		user string
	}{{p.alice, "alice"}, {p.bob, "bob"}} {
		tm := ph.c.traceMark()
		if err := ph.c.register(ph.user, users[ph.user], p.tr, b.srv.addr[p.tr], "auto"); err != nil {
			return withDetail(err, phoneLogs(ph.c))
		}
		// 401 with an MD5 challenge, REGISTER with Authorization, 200; all over tr.
		msgs := ph.c.trace()[tm:]
		var got401, gotAuth, got200 bool
		for _, m := range msgs {
			if m.method() != "REGISTER" {
				continue
			}
			if !strings.EqualFold(m.proto, p.tr) {
				return failf("%s: REGISTER traffic went over %s, want %s: %s", ph.c.name, m.proto, p.tr, m)
			}
			switch {
			case m.code() == 401 && !ph.c.sent(b.srv, m):
				got401 = strings.Contains(m.get("www-authenticate"), "Digest")
			case m.code() == 0 && ph.c.sent(b.srv, m) && strings.Contains(m.get("authorization"), `username="`+ph.user+`"`):
				gotAuth = true
			case m.code() == 200 && gotAuth:
				got200 = true
			}
		}
		if !got401 || !gotAuth || !got200 {
			return withDetail(failf("%s: want 401 (Digest) → REGISTER with Authorization → 200; got 401=%v auth=%v 200=%v: %s",
				ph.c.name, got401, gotAuth, got200, ph.c.traceSummary(b.srv, tm)), phoneLogs(ph.c))
		}
	}
	p.regOK = true
	return nil
}

// registerCarol starts linphonec as carol (auto-answer) over p.tr and waits
// until it says it is registered; the 401 → Authorization exchange must be
// in its log, and its REGISTERs must have gone to Parley over p.tr.
func (b *bench) registerCarol(p *pair) error {
	if b.noLinphone != nil {
		return b.noLinphone
	}
	l, err := startLinphoneOn(b.t, b.linphonec, b.jail, "carol", users["carol"], p.tr, b.srv.addr[p.tr], b.cert, b.pp)
	if err != nil {
		return err
	}
	p.carol = l
	if err := l.waitRegistered(15 * time.Second); err != nil {
		return withDetail(failf("linphonec carol: %v", firstLine(err)),
			"\n"+err.Error()+"\n--- liblinphone log (tail) ---\n"+proctest.Tail(l.debug(), 6000))
	}
	dbg := l.debug()
	if !strings.Contains(dbg, "SIP/2.0 401") || !regexp.MustCompile(`(?i)Authorization:\s*Digest[^\n]*username="carol"`).MatchString(dbg) {
		return withDetail(failf("linphonec registered, but its log shows no 401 → REGISTER with Authorization"), proctest.Tail(dbg, 6000))
	}
	sentTo := regexp.MustCompile(`message sent to \[(\w+)://([0-9.:]+)\][^\n]*\nREGISTER `)
	for _, m := range sentTo.FindAllStringSubmatch(dbg, -1) {
		if !strings.EqualFold(m[1], p.tr) || m[2] != b.srv.addr[p.tr] {
			return failf("linphonec sent a REGISTER to %s://%s, want %s://%s", m[1], m[2], strings.ToUpper(p.tr), b.srv.addr[p.tr])
		}
	}
	return nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// ---- scenario 2: call with auto-answer, RTP directly between the phones ----

// dial makes from call to to's user and waits until both have the call
// established; it returns the Call-ID.
func dial(from, to *baresip, user string) (string, error) {
	mf, mt := from.mark(), to.mark()
	if _, err := from.cmd("dial", "sip:"+user+"@"+domain); err != nil {
		return "", err
	}
	ev, err := from.waitEvent(mf, evWait, "CALL_ESTABLISHED", nil)
	if err != nil {
		if c, _ := from.waitEvent(mf, 0, "CALL_CLOSED", nil); c != nil {
			return "", failf("%s: call to %s closed: %q", from.name, user, c.Param())
		}
		return "", err
	}
	id := ev.ID()
	if _, err := to.waitEvent(mt, shortWait, "CALL_ESTABLISHED", func(e event) bool { return e.ID() == id }); err != nil {
		return "", err
	}
	return id, nil
}

// rtpWait bounds the wait for RTP to show up in a phone's statistics.
const rtpWait = 4 * time.Second

// checkRTP checks that each phone receives RTP from the other phone's RTP
// socket, which is the address in the other's SDP, and from nobody else (in
// particular not from Parley), and sends RTP. It polls the statistics until
// that holds or rtpWait has passed.
func (b *bench) checkRTP(x, y *baresip) error {
	return b.checkMediaWait(x, y, "audio")
}

// checkMediaWait is checkRTP for the kind ("audio", "video") stream.
func (b *bench) checkMediaWait(x, y *baresip, kind string) error {
	var err error
	proctest.WaitFor(rtpWait, func() bool {
		err = b.checkMedia(x, y, kind)
		return err == nil
	})
	return err
}

// checkMedia is checkRTP for the kind ("audio", "video") stream, at once.
func (b *bench) checkMedia(x, y *baresip, kind string) error {
	sx, err := x.streamDebug(kind)
	if err != nil {
		return err
	}
	sy, err := y.streamDebug(kind)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		me, peer     *baresip
		mine, theirs audioStats
	}{{x, y, sx, sy}, {y, x, sy, sx}} {
		want := fmt.Sprintf("127.0.0.1:%d", c.theirs.localPort)
		if c.theirs.localPort < c.peer.rtpLo || c.theirs.localPort > c.peer.rtpHi {
			return failf("%s's %s RTP port %d is outside its rtp_ports %d-%d", c.peer.name, kind, c.theirs.localPort, c.peer.rtpLo, c.peer.rtpHi)
		}
		if err := c.mine.onlyFrom(b.srv, c.me.name, kind, want, c.peer.name); err != nil {
			return err
		}
	}
	return nil
}

// onlyFrom checks that st (me's kind stream) sent packets to want, its SDP
// peer, and received packets from want and from nobody else.
func (st audioStats) onlyFrom(srv *parley, me, kind, want, peer string) error {
	if srv.isParley(st.remote) {
		return failf("%s's %s RTP peer %s is Parley", me, kind, st.remote)
	}
	if st.remote != want {
		return withDetail(failf("%s sends %s RTP to %s, want %s (%s)", me, kind, st.remote, want, peer), st.raw)
	}
	if st.rcvd[want] == 0 {
		return withDetail(failf("%s received no %s RTP from %s (%s); RTCP members %v", me, kind, want, peer, st.rcvd), st.raw)
	}
	for addr, n := range st.rcvd {
		if n > 0 && addr != want {
			return withDetail(failf("%s received %d %s RTP packets from %s, which is not %s's RTP socket %s", me, n, kind, addr, peer, want), st.raw)
		}
	}
	if st.tx == 0 {
		return withDetail(failf("%s sent no %s RTP", me, kind), st.raw)
	}
	return nil
}

// checkRTPLinphone is checkRTP for a call between ph and linphonec l, which
// has one call: ph must exchange RTP with an address of l's RTP range and
// nobody else, and liblinphone's statistics logged after lmark must show RTP
// received and sent (it does not show from where).
func (b *bench) checkRTPLinphone(ph *baresip, l *linphone, lmark int) error {
	var err error
	proctest.WaitFor(rtpWait, func() bool {
		var st audioStats
		if st, err = ph.audioDebug(); err != nil {
			return false
		}
		if err = l.isRTPPeer(st.remote); err != nil {
			err = withDetail(failf("%s: %v", ph.name, err), st.raw)
			return false
		}
		err = st.onlyFrom(b.srv, ph.name, "audio", st.remote, l.name)
		return err == nil
	})
	if err != nil {
		return err
	}
	return l.waitMediaBothWays(lmark, 1, rtpWait)
}

func (b *bench) callRTP(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	ma, mb := p.alice.mark(), p.bob.mark()
	tb := p.bob.traceMark()
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return withDetail(err, phoneLogs(p.alice, p.bob))
	}
	for _, c := range []struct {
		ph *baresip
		m  int
	}{{p.alice, ma}, {p.bob, mb}} {
		if _, err := c.ph.waitEvent(c.m, shortWait, "CALL_RTPESTAB", func(e event) bool { return e.ID() == id }); err != nil {
			return err
		}
	}
	// The INVITE reached bob over the same transport, through Parley, with
	// alice's SDP untouched.
	inv, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool {
		return m.start != "" && m.code() == 0 && m.method() == "INVITE" && m.callID() == id
	})
	if !ok {
		return failf("bob's trace has no INVITE for call %s: %s", id, p.bob.traceSummary(b.srv, tb))
	}
	if !strings.EqualFold(inv.proto, p.tr) || p.tr == "udp" && !b.srv.isParley(inv.src) {
		return failf("bob got the INVITE over %s from %s, want %s from Parley", inv.proto, inv.src, p.tr)
	}
	if !strings.Contains(inv.body, "c=IN IP4 127.0.0.1") {
		return withDetail(failf("the INVITE bob got has no c=IN IP4 127.0.0.1"), inv.full())
	}
	if err := b.checkRTP(p.alice, p.bob); err != nil {
		return err
	}
	p.callID = id
	return nil
}

// ---- scenarios 3 and 4: hang up ----

func (b *bench) hangup(p *pair, fromCaller bool) error {
	if err := needReg(p); err != nil {
		return err
	}
	id := p.callID
	p.callID = ""
	if id != "" {
		if n, err := p.alice.calls(); err != nil || n != 1 {
			id = "" // scenario 2's call is gone: make a new one
			p.alice.hangupAll()
		}
	}
	if id == "" || !fromCaller {
		var err error
		if id, err = dial(p.alice, p.bob, "bob"); err != nil {
			return withDetail(err, phoneLogs(p.alice, p.bob))
		}
	}
	by, other := p.alice, p.bob
	if !fromCaller {
		by, other = p.bob, p.alice
	}
	mb, mo := by.mark(), other.mark()
	tb, to := by.traceMark(), other.traceMark()
	if _, err := by.cmd("hangup", ""); err != nil {
		return err
	}
	isCall := func(e event) bool { return e.ID() == id }
	if _, err := by.waitEvent(mb, shortWait, "CALL_CLOSED", isCall); err != nil {
		return err
	}
	if _, err := other.waitEvent(mo, shortWait, "CALL_CLOSED", isCall); err != nil {
		return withDetail(err, "\n"+other.name+" trace: "+other.traceSummary(b.srv, to))
	}
	if _, ok := other.findMsg(to, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "BYE" && m.callID() == id && !other.sent(b.srv, m)
	}); !ok {
		return failf("%s received no BYE: %s", other.name, other.traceSummary(b.srv, to))
	}
	if _, ok := by.findMsg(tb, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "BYE" && m.callID() == id && !by.sent(b.srv, m)
	}); !ok {
		return failf("%s's BYE got no 200: %s", by.name, by.traceSummary(b.srv, tb))
	}
	for _, ph := range []*baresip{by, other} {
		if n, err := ph.calls(); err != nil || n != 0 {
			return failf("%s still has %d calls after the BYE (%v)", ph.name, n, err)
		}
	}
	return nil
}

// finalResponse waits for the final response to ph's INVITE after tm (401
// and 407 challenges excluded).
func (b *bench) finalResponse(ph *baresip, tm int, id string) (sipMsg, error) {
	m, ok := ph.findMsg(tm, evWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" &&
			(id == "" || m.callID() == id) && !ph.sent(b.srv, m)
	})
	if !ok {
		return m, failf("%s got no final response to its INVITE: %s", ph.name, ph.traceSummary(b.srv, tm))
	}
	return m, nil
}
