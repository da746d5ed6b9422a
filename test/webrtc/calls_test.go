package webrtc

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

const (
	regWait  = 10 * time.Second
	callWait = 15 * time.Second
)

// register makes page p register user over the WebSocket URL ws.
func register(t testing.TB, p *page, user, ws string) {
	t.Helper()
	o, _ := json.Marshal(map[string]any{"ws": ws, "user": user, "password": passwords[user], "domain": domain, "debug": os.Getenv("WEBRTC_LOG") != ""})
	p.run(t, fmt.Sprintf("t.register(%s)", o))
	p.waitFor(t, "t.reg", "registered", regWait)
}

// dial makes caller call user@domain.
func dial(t testing.TB, p *page, user string, video bool) {
	p.run(t, fmt.Sprintf("t.call(%q, %v)", "sip:"+user+"@"+domain, video))
}

// mediaFlows checks that both pages receive audio packets, and that the
// count keeps rising.
func mediaFlows(t testing.TB, pages ...*page) {
	t.Helper()
	for _, p := range pages {
		var first rtp
		deadline := time.Now().Add(callWait)
		for {
			first = p.stats(t)
			if first.AudioIn > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no inbound audio packets after %s (stats %+v)", p.name, callWait, first)
			}
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(600 * time.Millisecond)
		if next := p.stats(t); next.AudioIn <= first.AudioIn {
			t.Fatalf("%s: inbound audio packets stopped at %d", p.name, next.AudioIn)
		}
	}
}

// basicCall: caller calls callee, callee answers, audio flows both ways,
// the caller hangs up and the callee sees the remote hang-up.
func basicCall(t *testing.T, caller, callee *page, calleeUser string) {
	t.Helper()
	dial(t, caller, calleeUser, false)
	callee.waitFor(t, "t.state", "incoming", callWait)
	callee.run(t, "t.answer(false)")
	caller.waitFor(t, "t.state", "confirmed", callWait)
	callee.waitFor(t, "t.state", "confirmed", callWait)
	mediaFlows(t, caller, callee)
	caller.run(t, "t.hangup()")
	callee.waitFor(t, "t.state", "ended", callWait)
	callee.waitFor(t, "t.endedBy", "remote", time.Second)
	caller.waitFor(t, "t.state", "ended", callWait)
}

// TestJsSIPOverWS: two JsSIP pages register over WS, call, answer, talk and
// hang up; then cancel, reject, re-INVITE, callee hang-up, and a call to a
// user whose WebSocket has just closed.
func TestJsSIPOverWS(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, nil)
	srv := pageServer(t)
	b := startBrowser(t, c.spki)
	alice := b.open("alice", srv.URL+"/pages/jssip.html")
	bob := b.open("bob", srv.URL+"/pages/jssip.html")
	register(t, alice, "alice", pl.ws)
	register(t, bob, "bob", pl.ws)

	t.Run("call", func(t *testing.T) { basicCall(t, alice, bob, "bob") })
	t.Run("cancel", func(t *testing.T) { cancelCall(t, alice, bob, "bob") })
	t.Run("reject", func(t *testing.T) { rejectCall(t, alice, bob, "bob") })
	t.Run("reinvite-and-callee-hangs-up", func(t *testing.T) { reinviteCall(t, alice, bob, "bob") })
	t.Run("video", func(t *testing.T) { videoCall(t, bob, alice, "alice") })
	t.Run("closed-websocket", func(t *testing.T) { closedSocket(t, alice, bob, "bob") })
}

// TestJsSIPOverWSS: the basic call over WSS, Chromium trusting the test's
// self-signed certificate by its public key.
func TestJsSIPOverWSS(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, nil)
	srv := pageServer(t)
	b := startBrowser(t, c.spki)
	alice := b.open("alice", srv.URL+"/pages/jssip.html")
	bob := b.open("bob", srv.URL+"/pages/jssip.html")
	register(t, alice, "alice", pl.wss)
	register(t, bob, "bob", pl.wss)
	basicCall(t, alice, bob, "bob")
}

// cancelCall: the caller hangs up while the callee rings (CANCEL, 487).
func cancelCall(t *testing.T, caller, callee *page, calleeUser string) {
	dial(t, caller, calleeUser, false)
	callee.waitFor(t, "t.state", "incoming", callWait)
	caller.waitFor(t, "t.state", "progress", callWait)
	caller.run(t, "t.hangup()")
	callee.waitFor(t, "t.state", "failed", callWait)
	callee.waitFor(t, "t.cause", "Canceled", time.Second)
	caller.waitFor(t, "t.state", "failed", callWait)
	caller.waitFor(t, "t.cause", "Canceled", time.Second)
}

// rejectCall: the callee declines with 486; the caller sees 486 Busy.
func rejectCall(t *testing.T, caller, callee *page, calleeUser string) {
	dial(t, caller, calleeUser, false)
	callee.waitFor(t, "t.state", "incoming", callWait)
	callee.run(t, "t.reject(486)")
	caller.waitFor(t, "t.state", "failed", callWait)
	caller.waitFor(t, "t.code", "486", time.Second)
	callee.waitFor(t, "t.state", "failed", callWait)
}

// reinviteCall: after the answer the caller sends a re-INVITE (through
// Parley's Record-Route, over the callee's WebSocket); media goes on; then
// the callee hangs up.
func reinviteCall(t *testing.T, caller, callee *page, calleeUser string) {
	dial(t, caller, calleeUser, false)
	callee.waitFor(t, "t.state", "incoming", callWait)
	callee.run(t, "t.answer(false)")
	caller.waitFor(t, "t.state", "confirmed", callWait)
	callee.waitFor(t, "t.state", "confirmed", callWait)
	before := callee.str(t, "t.reinvites")
	caller.run(t, "t.reinvite()")
	caller.waitFor(t, "t.reinvites", "1", callWait)
	_ = before
	mediaFlows(t, caller, callee)
	callee.run(t, "t.hangup()")
	caller.waitFor(t, "t.state", "ended", callWait)
	caller.waitFor(t, "t.endedBy", "remote", time.Second)
}

// videoCall: audio and video; both sides receive video packets.
func videoCall(t *testing.T, caller, callee *page, calleeUser string) {
	dial(t, caller, calleeUser, true)
	callee.waitFor(t, "t.state", "incoming", callWait)
	callee.run(t, "t.answer(true)")
	caller.waitFor(t, "t.state", "confirmed", callWait)
	mediaFlows(t, caller, callee)
	for _, p := range []*page{caller, callee} {
		deadline := time.Now().Add(callWait)
		for p.stats(t).VideoIn == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no inbound video", p.name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	caller.run(t, "t.hangup()")
	callee.waitFor(t, "t.state", "ended", callWait)
}

// closedSocket: the callee's WebSocket closes (the tab goes away); a call to
// it at once fails fast with 404 instead of ringing into nothing (the
// binding registered over that WebSocket is no longer used).
func closedSocket(t *testing.T, caller, callee *page, calleeUser string) {
	callee.close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	dial(t, caller, calleeUser, false)
	caller.waitFor(t, "t.state", "failed", 3*time.Second)
	caller.waitFor(t, "t.code", "404", time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the call took %s to fail", d)
	}
}

// TestSIPjsAndJsSIP: SIP.js and JsSIP pages call each other over WS, each
// way, with cancel, reject and re-INVITE.
func TestSIPjsAndJsSIP(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, nil)
	srv := pageServer(t)
	b := startBrowser(t, c.spki)
	alice := b.open("alice", srv.URL+"/pages/sipjs.html")
	bob := b.open("bob", srv.URL+"/pages/jssip.html")
	register(t, alice, "alice", pl.ws)
	register(t, bob, "bob", pl.wss)
	t.Run("sipjs-calls-jssip", func(t *testing.T) { basicCall(t, alice, bob, "bob") })
	t.Run("jssip-calls-sipjs", func(t *testing.T) { basicCall(t, bob, alice, "alice") })
	t.Run("cancel", func(t *testing.T) { cancelCall(t, alice, bob, "bob") })
	t.Run("reject", func(t *testing.T) { rejectCall(t, bob, alice, "alice") })
	t.Run("reinvite", func(t *testing.T) { reinviteCall(t, alice, bob, "bob") })
}
