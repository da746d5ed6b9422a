package test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/config"
)

// TestProxyRFC3261s16_5_RelayPolicy: Parley is no open relay. A request
// from a foreign domain to a foreign domain gets 403 (§16.5 leaves the
// target policy to the proxy), and so does one from a foreign user with a
// preloaded Route to another host (§16.4, RFC 3261 §26.4.4); a user of ours
// may preload a Route, which is loose-routed and left for the next hop to
// pop (§16.6 step 6). An in-dialog request that does not come through a
// Route of Parley's is not for a dialog Parley record-routed: it is refused
// (481 as a UAS would, §12.2.2, or Kamailio's "404 Not here") and not relayed.
func TestProxyRFC3261s16_5_RelayPolicy(t *testing.T) {
	s := proxyServer(t, nil)
	t.Run("foreign to foreign 403", func(t *testing.T) {
		mallory := newPhone(t, s, "udp", uniq("mallory"))
		for _, method := range []string{"INVITE", "MESSAGE"} {
			d := mallory.call("sip:victim@other.test")
			d.localURI = "sip:mallory@evil.test"
			d.send(t, method, msgOpts{})
			res := mallory.final(t, method)
			if res.code() != 403 {
				t.Errorf("%s foreign to foreign got %q, want 403", method, res.start)
			}
			if method == "INVITE" {
				d.ackFinal(t, res)
			}
		}
	})
	t.Run("preloaded Route from a foreign user 403", func(t *testing.T) {
		mallory, bob := pair(t, s, "udp", "udp")
		relayTo := newPhone(t, s, "udp", uniq("gw"))
		d := mallory.call(bob.aor())
		d.localURI = "sip:mallory@evil.test"
		d.route = []string{"<sip:" + relayTo.local.String() + ";lr>"}
		d.send(t, "INVITE", sdp(false))
		res := mallory.final(t, "INVITE")
		if res.code() != 403 {
			t.Errorf("got %q, want 403", res.start)
		}
		d.ackFinal(t, res)
		relayTo.none(t, quietPeriod, "the request relayed", isRequest("INVITE"))
		bob.none(t, 0, "the request", isRequest("INVITE"))
	})
	t.Run("preloaded Route from our user is loose-routed", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		next := newPhone(t, s, "udp", uniq("gw"))
		route := "<sip:" + next.local.String() + ";lr>"
		d := alice.call(bob.aor())
		d.route = []string{route}
		d.send(t, "INVITE", sdp(false))
		in := next.request(t, "INVITE")
		if in.ruri() != bob.aor() {
			t.Errorf("Request-URI %q, want %q unchanged (loose routing)", in.ruri(), bob.aor())
		}
		if r := in.lines("Route"); len(r) != 1 || r[0] != route {
			t.Errorf("Route %q, want %q left for the next hop", r, route)
		}
		sent := next.reply(t, in, 486, "Busy Here", msgOpts{})
		checkHopAck(t, in, next.request(t, "ACK"), toTag(sent.raw))
		res := alice.final(t, "INVITE")
		if res.code() != 486 {
			t.Errorf("got %q, want 486", res.start)
		}
		d.ackFinal(t, res)
		bob.none(t, 0, "the request", isRequest("INVITE"))
	})
	t.Run("preloaded Route naming Parley is removed", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		d := alice.call(bob.aor())
		d.route = []string{"<sip:" + s.addr(t, "udp").String() + ";lr>"} // Parley as outbound proxy
		d.send(t, "MESSAGE", msgOpts{ctype: "text/plain", body: "via outbound proxy"})
		in := bob.request(t, "MESSAGE")
		checkOutOfDialog(t, bob, in, false)
		if r := in.lines("Route"); len(r) != 0 {
			t.Errorf("Parley left its own Route: %q (§16.4)", r)
		}
		bob.reply(t, in, 200, "OK", msgOpts{})
		alice.response(t, 200, "MESSAGE")
	})
	t.Run("in dialog without our Route refused", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		_, bd := establish(t, s, alice, bob)
		bd.route = nil // as if Parley had not record-routed
		bd.send(t, "BYE", msgOpts{})
		if res := bob.final(t, "BYE"); res.code() != 481 && res.code() != 404 {
			t.Errorf("BYE outside our route set got %q, want 481 (or 404)", res.start)
		}
		alice.none(t, quietPeriod, "the BYE", isRequest("BYE"))
	})
}

// TestProxyRFC3261s8_3_RedirectMode: with proxy.redirect Parley is a
// redirect server for its users: 302 with every contact, their q and the
// time left of each binding as expires (§8.3.1, §21.3.3, §20.10); nothing is
// forwarded.
func TestProxyRFC3261s8_3_RedirectMode(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) { cfg.Proxy.Redirect = true })
	alice, bobs := forkPhones(t, s, ";q=1.0;expires=600", ";q=0.5;expires=300")
	call := alice.call(bobs[0].aor())
	call.send(t, "INVITE", sdp(false))
	res := alice.final(t, "INVITE")
	if res.code() != 302 {
		t.Fatalf("got %q, want 302", res.start)
	}
	call.ackFinal(t, res)
	contacts := map[string]string{}
	for _, c := range res.list("Contact") {
		contacts[uriOf(c)] = c
	}
	for i, want := range []struct {
		q       string
		expires int
	}{{"", 600}, {"0.5", 300}} {
		c, ok := contacts[bobs[i].contact()]
		if !ok {
			t.Errorf("302 lacks contact %s; has %q", bobs[i].contact(), res.list("Contact"))
			continue
		}
		if q := paramOf(c, "q"); q != want.q && !(want.q == "" && (q == "1" || q == "1.0")) {
			t.Errorf("contact %q: q %q, want %q", c, q, want.q)
		}
		if e, _ := strconv.Atoi(paramOf(c, "expires")); e > want.expires || e < want.expires-10 {
			t.Errorf("contact %q: expires %d, want about %d", c, e, want.expires)
		}
	}
	for _, b := range bobs {
		b.none(t, quietPeriod/2, "INVITE in redirect mode", isRequest("INVITE"))
	}
}

// TestProxyRFC3261s16_7_Follow3xx: with proxy.follow_3xx Parley recurses on a
// 3xx itself (§16.7 step 4): it acknowledges the 302, forwards the INVITE to
// the contact in it, and the caller sees only the answer of that target.
func TestProxyRFC3261s16_7_Follow3xx(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) { cfg.Proxy.Follow3xx = true })
	alice, bob := pair(t, s, "udp", "udp")
	carol := newPhone(t, s, "udp", uniq("carol")) // not registered: reached only through the 302
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in := bob.request(t, "INVITE")
	sent := bob.reply(t, in, 302, "Moved Temporarily", hdr("Contact: <"+carol.contact()+">"))
	checkHopAck(t, in, bob.request(t, "ACK"), toTag(sent.raw))
	in2 := carol.request(t, "INVITE")
	if in2.ruri() != carol.contact() {
		t.Errorf("recursed INVITE Request-URI %q, want %q", in2.ruri(), carol.contact())
	}
	if in2.get("Call-ID") != in.get("Call-ID") {
		t.Errorf("recursed INVITE has another Call-ID")
	}
	carol.reply(t, in2, 180, "Ringing", msgOpts{})
	alice.response(t, 180, "INVITE")
	carol.reply(t, in2, 200, "OK", sdp(false))
	ok := alice.final(t, "INVITE")
	if ok.code() != 200 {
		t.Fatalf("caller got %q, want carol's 200", ok.start)
	}
	call.confirm(ok)
	call.ack(t)
	carol.request(t, "ACK")
	hangup(t, call, carol, alice)
}

// TestProxyRFC3261s21_ReasonPhrases: reason_phrases rewrites the reason
// phrase of relayed responses (a phrase is free text, §21, §7.2); the status
// code, and phrases not configured, stay as they were.
func TestProxyRFC3261s21_ReasonPhrases(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) {
		cfg.ReasonPhrases = map[int]string{180: "Zvoní", 486: "Obsazeno"}
	})
	alice, bob := pair(t, s, "udp", "udp")
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in := bob.request(t, "INVITE")
	bob.reply(t, in, 180, "Ringing", msgOpts{})
	if r := alice.response(t, 180, "INVITE"); r.start != "SIP/2.0 180 Zvoní" {
		t.Errorf("180 status line %q, want %q", r.start, "SIP/2.0 180 Zvoní")
	}
	bob.reply(t, in, 183, "Session Progress", msgOpts{})
	if r := alice.response(t, 183, "INVITE"); r.start != "SIP/2.0 183 Session Progress" {
		t.Errorf("183 status line %q, want it unchanged", r.start)
	}
	bob.reply(t, in, 486, "Busy Here", msgOpts{})
	bob.request(t, "ACK")
	r := alice.final(t, "INVITE")
	if r.start != "SIP/2.0 486 Obsazeno" {
		t.Errorf("486 status line %q, want %q", r.start, "SIP/2.0 486 Obsazeno")
	}
	call.ackFinal(t, r)
	m := alice.call(bob.aor())
	m.send(t, "MESSAGE", msgOpts{ctype: "text/plain", body: "x"})
	bob.reply(t, bob.request(t, "MESSAGE"), 200, "OK", msgOpts{})
	if r := alice.response(t, 200, "MESSAGE"); r.start != "SIP/2.0 200 OK" {
		t.Errorf("200 status line %q, want it unchanged", r.start)
	}
	if !strings.HasPrefix(r.raw, "SIP/2.0 486 ") {
		t.Errorf("486 code changed: %q", r.start)
	}
}

// TestProxyRFC3261s16_5_Follow3xxNoRepeat: a URI is added to the target set
// at most once (§16.5, and §8.1.3.4 "as with proxy recursion"): a 302 whose
// Contact is the very contact that answered it is not tried again, so a
// callee redirecting to itself cannot make Parley loop; the caller gets the
// 302 as the best response (§16.7 step 6).
func TestProxyRFC3261s16_5_Follow3xxNoRepeat(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) { cfg.Proxy.Follow3xx = true })
	alice, bob := pair(t, s, "udp", "udp")
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in := bob.request(t, "INVITE")
	bob.reply(t, in, 302, "Moved Temporarily", hdr("Contact: <"+bob.contact()+">"))
	bob.request(t, "ACK")
	bob.none(t, quietPeriod, "the INVITE again", isRequest("INVITE"))
	res := alice.final(t, "INVITE")
	if res.code() != 302 {
		t.Errorf("caller got %q, want the 302", res.start)
	}
	call.ackFinal(t, res)
}
