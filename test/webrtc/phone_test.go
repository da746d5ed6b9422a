package webrtc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// The /phone page driven like a person would: typing in its fields and
// clicking its buttons; the test reads the states the page shows
// (#reg[data-state], #call[data-state]) and the texts a person reads.

// phoneShim gives a /phone page the window.t the shared helpers poll:
// t.stats() sums the RTP counters of the current call's RTCPeerConnection
// (JsSIP's session.connection), t.log is the page's Activity list.
const phoneShim = `window.t = {
  get log() { return [...document.querySelectorAll("#log li")].map((li) => li.textContent); },
  async stats() {
    const s = window.parleyPhone.session;
    const pc = s && s.connection;
    const out = { audioIn: 0, audioOut: 0, videoIn: 0, bytesIn: 0 };
    if (!pc) return out;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") { out.audioIn += r.packetsReceived || 0; out.bytesIn += r.bytesReceived || 0; }
      if (r.type === "outbound-rtp" && r.kind === "audio") out.audioOut += r.packetsSent || 0;
      if (r.type === "inbound-rtp" && r.kind === "video") out.videoIn += r.packetsReceived || 0;
    });
    return out;
  },
}`

const (
	regState  = `document.getElementById("reg").dataset.state`
	callState = `document.getElementById("call").dataset.state`
)

// openPhone opens /phone in a new context and checks that the server field
// was filled in from /phone/config.json with Parley's ws listener.
func openPhone(t *testing.T, b *browser, pl *parley, name string) *page {
	t.Helper()
	p := b.open(name, pl.httpBase+"/phone/")
	p.run(t, phoneShim)
	p.waitFor(t, `document.getElementById("server").value`, pl.ws, 5*time.Second)
	return p
}

// signIn types user and password (and server, when not empty) and clicks Sign in.
func signIn(t *testing.T, p *page, user, password, server string) {
	t.Helper()
	p.act(t, "fill", "#user", user)
	p.act(t, "fill", "#password", password)
	if server != "" {
		p.run(t, `document.getElementById("server-box").open = true`)
		p.act(t, "fill", "#server", server)
	}
	p.act(t, "click", "#signin-button", "")
}

func signedIn(t *testing.T, p *page, user, server string) {
	t.Helper()
	signIn(t, p, user, passwords[user], server)
	p.waitFor(t, regState, "registered", regWait)
	if got := p.text(t, "#reg-text"); got != "Registered as "+user+"@"+domain {
		t.Fatalf("%s: registration shows %q", p.name, got)
	}
}

// phoneCall: caller dials callee by user name, callee answers with the
// button, audio (and video when asked) flows both ways, screenshots are
// taken, the caller hangs up and the callee's page says so.
func phoneCall(t *testing.T, caller, callee *page, calleeUser, shots string, video bool) {
	t.Helper()
	caller.act(t, "fill", "#target", calleeUser)
	if video {
		caller.act(t, "check", "#video", "")
	}
	caller.act(t, "click", "#call-button", "")
	callee.waitFor(t, callState, "incoming", callWait)
	if got := callee.text(t, "#call-status"); !strings.HasPrefix(got, "Incoming call from "+caller.name) {
		t.Fatalf("callee shows %q", got)
	}
	caller.waitFor(t, callState, "ringing", callWait)
	screenshot(t, callee, shots+"-incoming")
	answer := "#answer"
	if video {
		answer = "#answer-video"
	}
	callee.act(t, "click", answer, "")
	caller.waitFor(t, callState, "active", callWait)
	callee.waitFor(t, callState, "active", callWait)
	mediaFlows(t, caller, callee)
	if video {
		videoFlows(t, caller, callee)
		caller.act(t, "uncheck", "#video", "")
	}
	screenshot(t, caller, shots+"-in-call-"+caller.name)
	screenshot(t, callee, shots+"-in-call-"+callee.name)
	caller.act(t, "click", "#hangup", "")
	callee.waitFor(t, callState, "ended", callWait)
	if got := callee.text(t, "#call-status"); !strings.Contains(got, caller.name+"@"+domain+" hung up") {
		t.Fatalf("callee shows %q after the caller hung up", got)
	}
	caller.waitFor(t, callState, "ended", callWait)
	if got := caller.text(t, "#call-status"); !strings.HasPrefix(got, "You hung up. Call ended after ") {
		t.Fatalf("caller shows %q", got)
	}
	screenshot(t, callee, shots+"-ended-"+callee.name)
}

// videoFlows checks that both pages receive video packets and show the
// other's picture in the remote <video>.
func videoFlows(t *testing.T, pages ...*page) {
	t.Helper()
	for _, p := range pages {
		deadline := time.Now().Add(callWait)
		for p.stats(t).VideoIn == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no inbound video", p.name)
			}
			time.Sleep(200 * time.Millisecond)
		}
		p.waitFor(t, `document.getElementById("remote-video").videoWidth > 0`, "true", callWait)
	}
	time.Sleep(time.Second) // a few frames for the screenshots
}

// screenshotDir is $SCREENSHOT_DIR, else test/webrtc/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = "screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, p *page, name string) {
	t.Helper()
	path, _ := filepath.Abs(filepath.Join(screenshotDir(t), name+".png"))
	if err := p.b.do(map[string]any{"op": "screenshot", "name": p.name, "path": path}, nil, 20*time.Second); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot %s", path)
}

// TestPhonePageOverWS: alice and bob sign in on /phone over WS, alice calls
// bob, bob answers, audio flows both ways, alice hangs up, bob sees it.
func TestPhonePageOverWS(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, nil)
	b := startBrowser(t, c.spki)
	alice := openPhone(t, b, pl, "alice")
	bob := openPhone(t, b, pl, "bob")
	screenshot(t, alice, "phone-ws-signin")
	signedIn(t, alice, "alice", "")
	signedIn(t, bob, "bob", "")
	phoneCall(t, alice, bob, "bob", "phone-ws", false)
	// And back with video: bob calls alice by her full address.
	phoneCall(t, bob, alice, "alice@"+domain, "phone-ws-video", true)
}

// TestPhonePageOverWSS: the same over WSS, with the self-signed certificate
// Chromium trusts by its key; the server field is typed in.
func TestPhonePageOverWSS(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, nil)
	b := startBrowser(t, c.spki)
	alice := openPhone(t, b, pl, "alice")
	bob := openPhone(t, b, pl, "bob")
	signedIn(t, alice, "alice", pl.wss)
	signedIn(t, bob, "bob", pl.wss)
	phoneCall(t, alice, bob, "bob", "phone-wss", false)
}

// TestPhonePageErrors: what a person reads when things go wrong: a wrong
// password, a user who does not exist (404), a known user who is offline
// (480, with proxy.unregistered_480), a busy user (486), a declined call.
func TestPhonePageErrors(t *testing.T) {
	requireBrowser(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, func(cfg *config.Config) { cfg.Proxy.Unregistered480 = true })
	b := startBrowser(t, c.spki)

	alice := openPhone(t, b, pl, "alice")
	signIn(t, alice, "alice", "not-her-password", "")
	alice.waitFor(t, regState, "failed", regWait)
	if got := alice.text(t, "#signin-error"); !strings.Contains(got, "Wrong user name or password") || !strings.Contains(got, "403") {
		t.Fatalf("wrong password shows %q", got)
	}
	screenshot(t, alice, "phone-error-wrong-password")
	signedIn(t, alice, "alice", "")

	failedCall := func(target, want string) {
		t.Helper()
		alice.act(t, "fill", "#target", target)
		alice.act(t, "click", "#call-button", "")
		alice.waitFor(t, callState, "failed", callWait)
		if got := alice.text(t, "#call-error"); !strings.Contains(got, want) {
			t.Fatalf("calling %s shows %q, want %q", target, got, want)
		}
	}
	failedCall("nobody", "nobody does not exist or is not online. (404")
	failedCall("carol", "carol is not online right now. (480")
	screenshot(t, alice, "phone-error-offline")

	bob := openPhone(t, b, pl, "bob")
	carol := openPhone(t, b, pl, "carol")
	signedIn(t, bob, "bob", "")
	signedIn(t, carol, "carol", "")
	// carol is talking to bob; alice's call finds bob busy.
	carol.act(t, "fill", "#target", "bob")
	carol.act(t, "click", "#call-button", "")
	bob.waitFor(t, callState, "incoming", callWait)
	bob.act(t, "click", "#answer", "")
	carol.waitFor(t, callState, "active", callWait)
	failedCall("bob", "bob is busy. (486")
	screenshot(t, alice, "phone-error-busy")
	carol.act(t, "click", "#hangup", "")
	bob.waitFor(t, callState, "ended", callWait)

	// bob declines alice's call.
	alice.act(t, "fill", "#target", "bob")
	alice.act(t, "click", "#call-button", "")
	bob.waitFor(t, callState, "incoming", callWait)
	bob.act(t, "click", "#decline", "")
	alice.waitFor(t, callState, "failed", callWait)
	if got := alice.text(t, "#call-error"); !strings.Contains(got, "bob declined the call. (603") {
		t.Fatalf("declined call shows %q", got)
	}
	bob.waitFor(t, callState, "failed", callWait)
	if got := bob.text(t, "#call-error"); !strings.Contains(got, "You declined the call from alice@"+domain) {
		t.Fatalf("bob shows %q after declining", got)
	}
}
