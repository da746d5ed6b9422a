package test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// bounce sends req back to Parley as a downstream proxy would that routes it
// there again: Request-URI ruri, its own Via on top, Max-Forwards one less,
// everything else unchanged (Parley's Via and Record-Route included).
func bounce(t *testing.T, p *phone, req *sipMsg, ruri string) *sipMsg {
	t.Helper()
	_, rest, _ := strings.Cut(req.raw, "\r\n")
	rest = regexp.MustCompile(`(?m)^Max-Forwards: *\d+`).ReplaceAllString(rest, "Max-Forwards: "+strconv.Itoa(req.maxForwards()-1))
	raw := req.method() + " " + ruri + " SIP/2.0\r\nVia: " + p.via() + "\r\n" + rest
	p.send(t, raw)
	return parseMsg(raw)
}

// answers matches a final response to req: same top Via branch (§17.1.3).
func answers(req *sipMsg) func(*sipMsg) bool {
	branch := paramOf(req.list("Via")[0], "branch")
	return func(m *sipMsg) bool {
		return !m.isRequest() && m.code() >= 200 && paramOf(m.list("Via")[0], "branch") == branch
	}
}

// TestProxyRFC3261s16_3_LoopDetection: §16.3 step 4 — a request that comes
// back carrying a Via of Parley whose branch matches what Parley would
// compute for it (same Request-URI, From tag, Call-ID, CSeq) has looped and
// gets 482; one whose Request-URI has changed is spiralling and is forwarded
// again (§16.3 step 4, second paragraph).
func TestProxyRFC3261s16_3_LoopDetection(t *testing.T) {
	s := proxyServer(t, nil)
	t.Run("loop 482", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		// bob acts as a misconfigured proxy that routes bob@example.test back to Parley.
		back := bounce(t, bob, in, bob.aor())
		res := bob.wait(t, "final response to the bounced INVITE", answers(back))
		if res.code() != 482 {
			t.Fatalf("bounced INVITE got %q, want 482 Loop Detected", res.start)
		}
		if v := res.list("Via"); len(v) != 3 {
			t.Errorf("482 Vias %q, want bob's, Parley's and alice's (a response to the looped request)", v)
		}
		bob.send(t, derived(back, "ACK", res.get("To")))
		sent := bob.reply(t, in, 482, "Loop Detected", msgOpts{})
		checkHopAck(t, in, bob.request(t, "ACK"), toTag(sent.raw))
		if got := alice.final(t, "INVITE"); got.code() != 482 {
			t.Errorf("caller got %q, want 482", got.start)
		} else {
			call.ackFinal(t, got)
		}
		bob.none(t, quietPeriod, "the looped INVITE forwarded again", isRequest("INVITE"))
	})
	t.Run("spiral is forwarded", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		back := bounce(t, bob, in, in.ruri()) // a new Request-URI: the contact
		again := bob.request(t, "INVITE")
		if v := again.list("Via"); len(v) != 4 {
			t.Errorf("spiralled INVITE Vias %q, want 4", v)
		}
		if mf := again.maxForwards(); mf != 67 {
			t.Errorf("spiralled INVITE Max-Forwards %d, want 67", mf)
		}
		sent2 := bob.reply(t, again, 486, "Busy Here", msgOpts{})
		checkHopAck(t, again, bob.request(t, "ACK"), toTag(sent2.raw))
		res := bob.wait(t, "final response to the bounced INVITE", answers(back))
		if res.code() != 486 {
			t.Fatalf("bounced INVITE got %q, want the 486 relayed", res.start)
		}
		bob.send(t, derived(back, "ACK", res.get("To")))
		sent := bob.reply(t, in, 486, "Busy Here", msgOpts{})
		checkHopAck(t, in, bob.request(t, "ACK"), toTag(sent.raw))
		got := alice.final(t, "INVITE")
		if got.code() != 486 {
			t.Errorf("caller got %q, want 486", got.start)
		}
		call.ackFinal(t, got)
	})
}

// TestProxyRFC3261s16_6_MaxForwards: §16.6 step 3 — Parley decrements
// Max-Forwards (1 arrives as 0); §16.3 step 3 — a request to forward with
// Max-Forwards 0 gets 483 and goes nowhere, inside a dialog too.
func TestProxyRFC3261s16_6_MaxForwards(t *testing.T) {
	s := proxyServer(t, nil)
	t.Run("1 becomes 0", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		for _, method := range []string{"INVITE", "MESSAGE"} {
			call := alice.call(bob.aor())
			call.send(t, method, msgOpts{mf: "1", ctype: "text/plain", body: "x"})
			in := bob.request(t, method)
			if mf := in.maxForwards(); mf != 0 {
				t.Errorf("%s arrived with Max-Forwards %d, want 0", method, mf)
			}
			code := 200
			if method == "INVITE" {
				code = 486
			}
			bob.reply(t, in, code, "Done", msgOpts{})
			res := alice.final(t, method)
			if res.code() != code {
				t.Errorf("%s: caller got %q, want %d", method, res.start, code)
			}
			if method == "INVITE" {
				bob.request(t, "ACK")
				call.ackFinal(t, res)
			}
		}
	})
	t.Run("0 gets 483", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		for _, method := range []string{"INVITE", "MESSAGE", "OPTIONS", "SUBSCRIBE"} {
			call := alice.call(bob.aor())
			call.send(t, method, msgOpts{mf: "0", hdrs: []string{"Event: presence"}})
			res := alice.final(t, method)
			if res.code() != 483 {
				t.Errorf("%s with Max-Forwards 0 got %q, want 483", method, res.start)
			}
			if method == "INVITE" {
				call.ackFinal(t, res)
			}
		}
		bob.none(t, quietPeriod, "a request with Max-Forwards 0", func(m *sipMsg) bool { return m.isRequest() })
	})
	t.Run("0 in a dialog gets 483", func(t *testing.T) {
		alice, bob := pair(t, s, "udp", "udp")
		call, _ := establish(t, s, alice, bob)
		call.send(t, "BYE", msgOpts{mf: "0"})
		if res := alice.final(t, "BYE"); res.code() != 483 {
			t.Errorf("BYE with Max-Forwards 0 got %q, want 483", res.start)
		}
		call.send(t, "ACK", msgOpts{mf: "0"}) // an ACK is not answered: it must just not go on
		bob.none(t, quietPeriod, "a request with Max-Forwards 0", func(m *sipMsg) bool { return m.isRequest() })
		hangup(t, call, bob, alice)
	})
}

// TestProxyRFC3261s16_4_StrictRouting: §16.4 — a request whose
// Request-URI is a URI Parley put in Record-Route came from a strict router
// (§12.2.1.1, RFC 2543 style): Parley replaces the Request-URI with the last
// Route (the remote target), removes that Route, and delivers the request to
// the remote target over the dialog's flow.
func TestProxyRFC3261s16_4_StrictRouting(t *testing.T) {
	s := proxyServer(t, nil)
	for _, keys := range [][2]string{{"udp", "udp"}, {"udp", "tcp"}} {
		t.Run(keys[0]+"-"+keys[1], func(t *testing.T) {
			alice, bob := pair(t, s, keys[0], keys[1])
			call, bd := establish(t, s, alice, bob)
			t.Run("ACK", func(t *testing.T) {
				strictly(call, func() { call.ack(t) })
				checkInDialog(t, s, bob, alice, bob.request(t, "ACK"))
			})
			t.Run("INFO", func(t *testing.T) {
				strictly(call, func() { call.send(t, "INFO", hdr("Content-Type: application/dtmf-relay")) })
				info := bob.request(t, "INFO")
				checkInDialog(t, s, bob, alice, info)
				bob.reply(t, info, 200, "OK", msgOpts{})
				alice.response(t, 200, "INFO")
			})
			t.Run("BYE from the callee", func(t *testing.T) {
				strictly(bd, func() { bd.send(t, "BYE", msgOpts{}) })
				bye := alice.request(t, "BYE")
				checkInDialog(t, s, alice, bob, bye)
				alice.reply(t, bye, 200, "OK", msgOpts{})
				bob.response(t, 200, "BYE")
			})
		})
	}
}

// strictly runs send with d's request built as a strict router before
// Parley would forward it (§16.6 step 6 in RFC 2543 mode): the Request-URI is
// the first route, and the remote target is appended as the last Route.
func strictly(d *dialog, send func()) {
	route, target := d.route, d.target
	d.route = append(append([]string(nil), route[1:]...), "<"+target+">")
	d.target = uriOf(route[0])
	defer func() { d.route, d.target = route, target }()
	send()
}
