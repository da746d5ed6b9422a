package phones

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/parley-sip/parley/internal/proctest"
)

// ---- scenario 14: a conference hosted by one phone ----

// conference: alice and bob (baresip) call carol (linphonec) through Parley;
// carol answers both and joins the two calls into her local audio
// conference (`conference add <id>`), which liblinphone does by
// re-INVITEing each guest with a Contact that has ;isfocus (RFC 4579 §2.3),
// through Parley along the route set. Then carol has two established calls
// at once, each guest exchanges RTP directly with carol's port of its call,
// liblinphone's statistics show RTP both ways on both calls, and carol's
// `terminate all` ends both with a BYE through Parley.
func (b *bench) conference(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if err := b.needCarol(p, "the conference host is linphonec: "); err != nil {
		return err
	}
	l := p.carol
	guests := []*baresip{p.alice, p.bob}
	ids, callNos := make([]string, 2), make([]string, 2)
	for i, g := range guests {
		var err error
		if ids[i], callNos[i], err = b.callHost(g, l, i > 0); err != nil {
			return err
		}
	}
	marks := []int{p.alice.traceMark(), p.bob.traceMark()}
	for _, n := range callNos {
		l.send("conference add " + n)
	}
	for i, g := range guests {
		if err := b.focusReinvite(g, ids[i], marks[i]); err != nil {
			return err
		}
	}
	if _, err := l.waitCalls(shortWait, func(rows [][]string) bool {
		return len(rows) == 2 && rowsAre(rows, "StreamsRunning", "conferencing")
	}); err != nil {
		return withDetail(err, "\n"+proctest.Tail(l.p.Log(), 2000))
	}
	if err := b.conferenceMedia(l, guests); err != nil {
		return err
	}
	return b.hangupConference(l, guests, ids)
}

// callHost: g calls carol (l). The first call is auto-answered; carol answers
// the second with `answer <id>` (liblinphone auto-answers no second call).
// It returns the Call-ID and linphonec's call number.
func (b *bench) callHost(g *baresip, l *linphone, second bool) (id, callNo string, err error) {
	user := strings.Split(g.name, "/")[0]
	mg, ml := g.mark(), l.mark()
	tg := g.traceMark()
	if _, err := g.cmd("dial", "sip:carol@"+domain); err != nil {
		return "", "", err
	}
	in, err := l.waitOut(ml, evWait, regexp.MustCompile(`Receiving new incoming call from [^\n]*`+user+`[^\n]*, assigned id (\d+)`))
	if err != nil {
		return "", "", withDetail(err, "\n"+g.name+": "+g.traceSummary(b.srv, tg))
	}
	callNo = in[1]
	if second {
		l.send("answer " + callNo)
	}
	if _, err := l.waitOut(ml, evWait, regexp.MustCompile(`Call `+callNo+` with [^\n]*`+user+`[^\n]* connected`)); err != nil {
		return "", "", err
	}
	ev, err := g.waitEvent(mg, shortWait, "CALL_ESTABLISHED", nil)
	if err != nil {
		return "", "", err
	}
	return ev.ID(), callNo, nil
}

// focusReinvite waits for the re-INVITE that makes g's call part of the
// conference: in g's dialog (id), received through Parley, with ;isfocus in
// its Contact, answered 200 and ACKed.
func (b *bench) focusReinvite(g *baresip, id string, tm int) error {
	inv, ok := g.findMsg(tm, shortWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "INVITE" && m.callID() == id && !g.sent(b.srv, m) &&
			strings.Contains(m.get("contact"), "isfocus")
	})
	if !ok {
		return failf("%s got no re-INVITE from the conference focus: %s", g.name, g.traceSummary(b.srv, tm))
	}
	if _, ok := g.findMsg(tm, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "INVITE" && m.cseqNum() == inv.cseqNum() && g.sent(b.srv, m)
	}); !ok {
		return failf("%s did not answer the focus's re-INVITE with 200: %s", g.name, g.traceSummary(b.srv, tm))
	}
	if _, ok := g.findMsg(tm, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "ACK" && m.cseqNum() == inv.cseqNum() && !g.sent(b.srv, m)
	}); !ok {
		return failf("%s got no ACK for its 200 to the focus's re-INVITE: %s", g.name, g.traceSummary(b.srv, tm))
	}
	return nil
}

// rowsAre reports whether every row of linphonec's calls table has state
// and flags.
func rowsAre(rows [][]string, state, flags string) bool {
	for _, r := range rows {
		if r[2] != state || r[3] != flags {
			return false
		}
	}
	return true
}

// conferenceMedia checks, with both calls in the conference, that each
// guest exchanges RTP directly with a port of carol's (a different one per
// guest) and nobody else, that each guest keeps receiving, and that
// liblinphone's statistics show RTP both ways on two calls.
func (b *bench) conferenceMedia(l *linphone, guests []*baresip) error {
	lmark := l.logMark()
	peers := map[string]string{}
	for _, g := range guests {
		before, err := g.audioDebug()
		if err != nil {
			return err
		}
		var st audioStats
		proctest.WaitFor(rtpWait, func() bool {
			if st, err = g.audioDebug(); err != nil {
				return false
			}
			if err = l.isRTPPeer(st.remote); err != nil {
				return false
			}
			if err = st.onlyFrom(b.srv, g.name, "audio", st.remote, l.name); err != nil {
				return false
			}
			if st.rcvd[st.remote] <= before.rcvd[st.remote]+10 || st.tx <= before.tx+10 {
				err = failf("%s: RTP with carol does not go on in the conference (received %d → %d, sent %d → %d)",
					g.name, before.rcvd[st.remote], st.rcvd[st.remote], before.tx, st.tx)
				return false
			}
			return true
		})
		if err != nil {
			return withDetail(fmt.Errorf("in the conference: %w", err), st.raw)
		}
		if other, dup := peers[st.remote]; dup {
			return failf("%s and %s both send RTP to %s: carol has one port per call", other, g.name, st.remote)
		}
		peers[st.remote] = g.name
	}
	return l.waitMediaBothWays(lmark, 2, rtpWait)
}

// hangupConference: carol's `terminate all` sends each guest a BYE through
// Parley.
func (b *bench) hangupConference(l *linphone, guests []*baresip, ids []string) error {
	var marks, tms []int
	for _, g := range guests {
		marks, tms = append(marks, g.mark()), append(tms, g.traceMark())
	}
	l.send("terminate all")
	for i, g := range guests {
		if _, err := g.waitEvent(marks[i], shortWait, "CALL_CLOSED", func(e event) bool { return e.ID() == ids[i] }); err != nil {
			return err
		}
		if _, ok := g.findMsg(tms[i], msgWait, func(m sipMsg) bool {
			return m.code() == 0 && m.method() == "BYE" && m.callID() == ids[i] && !g.sent(b.srv, m)
		}); !ok {
			return failf("%s got no BYE from the host: %s", g.name, g.traceSummary(b.srv, tms[i]))
		}
	}
	return nil
}
