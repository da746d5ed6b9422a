package webrtc

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/rtpengine/rtpenginetest"
	"github.com/parley-sip/parley/internal/transport"
)

// TestBrowserAndBaresipThroughRTPEngine: the /phone page in Chromium
// (DTLS-SRTP, ICE, over WS) and baresip (plain RTP/AVP over UDP) call each
// other through Parley, which has rtpengine relay and translate the media.
// Audio flows both ways: getStats in the browser, audio_debug in baresip,
// whose RTP peer is rtpengine, not the browser.
func TestBrowserAndBaresipThroughRTPEngine(t *testing.T) {
	requireBrowser(t)
	bin := requireBaresip(t)
	d := rtpenginetest.Start(t)
	c := writeCert(t, t.TempDir())
	pl := startParley(t, c, func(cfg *config.Config) { cfg.Media.RTPEngine = d.Addr })
	carol := startBaresip(t, bin)
	carol.register("carol", pl.addrs[transport.UDP].String(), "auto")
	b := startBrowser(t, c.spki)
	alice := openPhone(t, b, pl, "alice")
	signedIn(t, alice, "alice", "")

	t.Run("browser-calls-baresip", func(t *testing.T) {
		m := carol.mark()
		alice.act(t, "fill", "#target", "carol")
		alice.act(t, "click", "#call-button", "")
		carol.wait(m, callWait, "CALL_ESTABLISHED")
		alice.waitFor(t, callState, "active", callWait)
		mediaFlows(t, alice)
		t.Logf("browser: %+v", alice.stats(t))
		baresipHears(t, carol, d)
		screenshot(t, alice, "relay-browser-calls-baresip")
		alice.act(t, "click", "#hangup", "")
		carol.wait(m, callWait, "CALL_CLOSED")
		alice.waitFor(t, callState, "ended", callWait)
	})
	t.Run("baresip-calls-browser", func(t *testing.T) {
		m := carol.mark()
		carol.do("dial", "sip:alice@"+domain)
		alice.waitFor(t, callState, "incoming", callWait)
		alice.act(t, "click", "#answer", "")
		carol.wait(m, callWait, "CALL_ESTABLISHED")
		alice.waitFor(t, callState, "active", callWait)
		mediaFlows(t, alice)
		t.Logf("browser: %+v", alice.stats(t))
		baresipHears(t, carol, d)
		screenshot(t, alice, "relay-baresip-calls-browser")
		carol.do("hangup", "")
		alice.waitFor(t, callState, "ended", callWait)
		if got := alice.text(t, "#call-status"); got[:len("carol@"+domain+" hung up")] != "carol@"+domain+" hung up" {
			t.Fatalf("alice shows %q", got)
		}
	})
}

// baresipHears checks that baresip sends its RTP to rtpengine (a port of
// its range) and that the packets it receives keep rising.
func baresipHears(t *testing.T, p *baresip, d *rtpenginetest.Daemon) {
	t.Helper()
	first := p.audio()
	host, port, err := net.SplitHostPort(first.remote)
	n, _ := strconv.Atoi(port)
	if err != nil || host != "127.0.0.1" || n < d.PortMin || n > d.PortMax {
		t.Fatalf("baresip's RTP peer is %q, not rtpengine (127.0.0.1:%d-%d)", first.remote, d.PortMin, d.PortMax)
	}
	deadline := time.Now().Add(callWait)
	for first.rcvd == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("baresip received no RTP in %s", callWait)
		}
		time.Sleep(200 * time.Millisecond)
		first = p.audio()
	}
	time.Sleep(time.Second)
	next := p.audio()
	if next.rcvd <= first.rcvd {
		t.Fatalf("baresip's received RTP stopped at %d", next.rcvd)
	}
	t.Logf("baresip sends RTP to rtpengine at %s and received %d, then %d packets", first.remote, first.rcvd, next.rcvd)
}
