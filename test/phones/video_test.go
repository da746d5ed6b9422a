package phones

import (
	"regexp"
	"strconv"
)

// ---- scenario 13: re-INVITE adding video ----

var mVideoRE = regexp.MustCompile(`(?m)^m=video (\d+) `)

// videoPort is the port of the m=video line of an SDP body (0 when it is
// rejected or disabled); ok is false without an m=video line.
func videoPort(body string) (port int, ok bool) {
	m := mVideoRE.FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	port, _ = strconv.Atoi(m[1])
	return port, true
}

// videoAdd: erin calls frank over p.tr, both on baresip with video
// (fakevideo, vp8); the call starts with audio only, then frank's re-INVITE
// adds video, and video and audio flow directly both ways.
//
// baresip 1.0.0 cannot place an audio-only call once a video codec is loaded
// (its dial command takes no media options) and has no command that adds a
// stream to a call. So frank, the callee, answers with video disabled:
// `video_dir inactive` on the ringing call disables the stream (the command
// then fails, "Invalid argument", because it cannot re-INVITE a call that is
// not established, but the stream stays disabled), and the 200 rejects video
// with m=video 0 (RFC 3264 §6). Then `video_dir sendrecv` re-INVITEs with a
// port on that m=video line: adding a media stream by reusing the slot of a
// disabled one (RFC 3264 §8.1). For Parley this is a re-INVITE whose SDP adds
// video to an audio-only call; it must relay it and its 200 untouched.
func (b *bench) videoAdd(p *pair, extra *[]*baresip) error {
	e, f, err := b.videoPhones(p, extra)
	if err != nil {
		return err
	}
	defer e.quit()
	defer f.quit()
	id, err := b.audioOnlyCall(e, f)
	if err != nil {
		return err
	}
	te, tf := e.traceMark(), f.traceMark()
	if _, err := f.cmd("video_dir", "sendrecv"); err != nil {
		return err
	}
	if err := b.videoReinviteRelayed(p.tr, e, f, id, te, tf); err != nil {
		return err
	}
	if err := b.checkMediaWait(e, f, "video"); err != nil {
		return failf("video after the re-INVITE: %v", err)
	}
	if err := b.checkRTP(e, f); err != nil {
		return failf("audio after the re-INVITE: %v", err)
	}
	mf := f.mark()
	if _, err := e.cmd("hangup", ""); err != nil {
		return err
	}
	_, err = f.waitEvent(mf, shortWait, "CALL_CLOSED", func(ev event) bool { return ev.ID() == id })
	return err
}

// videoPhones starts and registers erin (auto-answer) and frank (manual)
// on baresip with video over p.tr.
func (b *bench) videoPhones(p *pair, extra *[]*baresip) (e, f *baresip, err error) {
	for _, u := range []struct {
		name, mode string
		ph         **baresip
	}{{"erin", "auto", &e}, {"frank", "manual", &f}} {
		ph, err := startBaresipWith(b.t, b.baresip, u.name+"-video/"+p.tr, b.certBoth, b.pp, true)
		if err != nil {
			return nil, nil, err
		}
		*extra = append(*extra, ph)
		*u.ph = ph
		if err := ph.register(u.name, users[u.name], p.tr, b.srv.addr[p.tr], u.mode); err != nil {
			return nil, nil, withDetail(err, phoneLogs(ph))
		}
	}
	return e, f, nil
}

// audioOnlyCall: e calls f, f disables its video stream before it answers,
// so the call is established with m=video 0 in the answer e got.
func (b *bench) audioOnlyCall(e, f *baresip) (string, error) {
	me, mf := e.mark(), f.mark()
	te := e.traceMark()
	if _, err := e.cmd("dial", "sip:frank@"+domain); err != nil {
		return "", err
	}
	in, err := f.waitEvent(mf, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return "", withDetail(err, "\nerin: "+e.traceSummary(b.srv, te))
	}
	id := in.ID()
	f.cmd("video_dir", "inactive") // fails by design, see videoAdd
	if _, err := f.cmd("accept", ""); err != nil {
		return "", err
	}
	for _, w := range []struct {
		ph *baresip
		m  int
	}{{e, me}, {f, mf}} {
		if _, err := w.ph.waitEvent(w.m, shortWait, "CALL_ESTABLISHED", func(ev event) bool { return ev.ID() == id }); err != nil {
			return "", err
		}
	}
	ok, found := e.findMsg(te, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "INVITE" && m.callID() == id && !e.sent(b.srv, m)
	})
	if !found {
		return "", failf("erin got no 200 for its INVITE: %s", e.traceSummary(b.srv, te))
	}
	if port, has := videoPort(ok.body); !has || port != 0 {
		return "", withDetail(failf("the call did not start audio-only: frank's 200 has m=video port %d (present %v)", port, has), ok.full())
	}
	return id, nil
}

// videoReinviteRelayed checks the re-INVITE f sent after tf: e received it
// (through Parley, over tr) with a non-zero m=video port and answered 200
// with one too; f got that 200 and sent the ACK.
func (b *bench) videoReinviteRelayed(tr string, e, f *baresip, id string, te, tf int) error {
	inv, ok := e.findMsg(te, shortWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "INVITE" && m.callID() == id && !e.sent(b.srv, m)
	})
	if !ok {
		return failf("frank's re-INVITE with video did not reach erin: erin %s; frank %s", e.traceSummary(b.srv, te), f.traceSummary(b.srv, tf))
	}
	if port, _ := videoPort(inv.body); port == 0 {
		return withDetail(failf("the re-INVITE erin got has no m=video with a port"), inv.full())
	}
	if tr == "udp" && !b.srv.isParley(inv.src) {
		return failf("erin got the re-INVITE from %s, not from Parley", inv.src)
	}
	ans, ok := e.findMsg(te, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "INVITE" && m.cseqNum() == inv.cseqNum() && e.sent(b.srv, m)
	})
	if !ok {
		return failf("erin did not answer the re-INVITE with 200: %s", e.traceSummary(b.srv, te))
	}
	if port, _ := videoPort(ans.body); port == 0 {
		return withDetail(failf("erin's 200 to the re-INVITE does not accept video (m=video port 0)"), ans.full())
	}
	got, ok := f.findMsg(tf, shortWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" && m.callID() == id && !f.sent(b.srv, m)
	})
	if !ok || got.code() != 200 {
		return failf("frank's re-INVITE got %q: %s", got.start, f.traceSummary(b.srv, tf))
	}
	if gp, _ := videoPort(got.body); gp == 0 || got.body != ans.body {
		return withDetail(failf("the 200 frank got is not erin's (m=video port %d)", gp), "\nerin sent:\n"+ans.full()+"\nfrank got:\n"+got.full())
	}
	if _, ok := f.findMsg(tf, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "ACK" && m.cseqNum() == got.cseqNum() && f.sent(b.srv, m)
	}); !ok {
		return failf("frank sent no ACK for the 200: %s", f.traceSummary(b.srv, tf))
	}
	return nil
}
