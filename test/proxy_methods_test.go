package test

import (
	"strings"
	"testing"
)

// relay sends a request of method from d's phone, takes it at to, answers it
// with code and answer, and checks the response reaches the sender with
// only its own Via. It returns the request as to received it.
func relay(t *testing.T, d *dialog, to *phone, method string, o msgOpts, code int, answer msgOpts) (*sipMsg, *sipMsg) {
	t.Helper()
	sent := d.send(t, method, o)
	req := to.request(t, method)
	if o.body != "" && req.body != sent.body {
		t.Errorf("%s body changed on the way:\n%q\nwant\n%q", method, req.body, sent.body)
	}
	for _, h := range o.hdrs {
		name, val, _ := strings.Cut(h, ":")
		if got := req.get(name); got != strings.TrimSpace(val) {
			t.Errorf("%s %s = %q, want %q relayed unchanged", method, name, got, strings.TrimSpace(val))
		}
	}
	to.reply(t, req, code, "Done", answer)
	res := d.p.response(t, code, method)
	checkRelayed(t, d.p, res)
	return req, res
}

// checkOutOfDialog checks a request to an AOR as the callee got it: the
// Request-URI is the contact (§16.5), Max-Forwards is one less and, for a
// method that creates no dialog, no Record-Route (§16.6 step 4).
func checkOutOfDialog(t *testing.T, to *phone, req *sipMsg, recordRoute bool) {
	t.Helper()
	if req.ruri() != to.contact() {
		t.Errorf("%s Request-URI %q, want the contact %q", req.method(), req.ruri(), to.contact())
	}
	if mf := req.maxForwards(); mf != 69 {
		t.Errorf("%s Max-Forwards %d, want 69", req.method(), mf)
	}
	if rr := req.list("Record-Route"); (len(rr) > 0) != recordRoute {
		t.Errorf("%s Record-Route %q, want it present=%v", req.method(), rr, recordRoute)
	}
}

// TestProxyRFC3261s16_OutOfDialogMethods: requests outside a dialog to a
// registered user are proxied whatever their method (§16: a proxy forwards
// methods it does not know, §16.6; RFC 3428 MESSAGE, RFC 3903 PUBLISH,
// RFC 6665 NOTIFY, §11 OPTIONS to a user), and the answer comes back.
func TestProxyRFC3261s16_OutOfDialogMethods(t *testing.T) {
	s := proxyServer(t, nil)
	for _, tc := range []struct {
		name, method string
		o, answer    msgOpts
		code         int
		reverse      bool // from bob to alice
	}{
		{name: "MESSAGE RFC 3428", method: "MESSAGE", o: msgOpts{ctype: "text/plain", body: "Hello Bob"}, code: 200},
		{name: "OPTIONS to a user §11", method: "OPTIONS", o: hdr("Accept: application/sdp"), code: 200,
			answer: hdr("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE", "Accept: application/sdp")},
		{name: "PUBLISH RFC 3903", method: "PUBLISH", code: 200,
			o: msgOpts{hdrs: []string{"Event: presence", "Expires: 600"}, ctype: "application/pidf+xml",
				body: `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@example.test"/>`},
			answer: hdr("SIP-ETag: e1", "Expires: 600")},
		{name: "NOTIFY out of dialog RFC 3842", method: "NOTIFY", reverse: true, code: 200,
			o: msgOpts{hdrs: []string{"Event: message-summary", "Subscription-State: active"},
				ctype: "application/simple-message-summary", body: "Messages-Waiting: yes\r\n"}},
		{name: "unknown method FOO §16", method: "FOO", o: hdr("X-Foo: bar"), code: 200},
		{name: "unknown method answered 501", method: "FOO", code: 501},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bob := pair(t, s, "udp", "tcp")
			from, to := alice, bob
			if tc.reverse {
				from, to = bob, alice
			}
			req, res := relay(t, from.call(to.aor()), to, tc.method, tc.o, tc.code, tc.answer)
			checkOutOfDialog(t, to, req, false)
			for _, h := range tc.answer.hdrs {
				name, val, _ := strings.Cut(h, ":")
				if got := res.get(name); got != strings.TrimSpace(val) {
					t.Errorf("response %s = %q, want %q relayed", name, got, strings.TrimSpace(val))
				}
			}
		})
	}
}

// TestProxyRFC6665_Subscription: SUBSCRIBE creates a dialog through Parley
// (record-routed, §16.6 step 4); the NOTIFYs and the refresh follow the
// route set in both directions (RFC 6665 §4.1, §4.2).
func TestProxyRFC6665_Subscription(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bob := pair(t, s, "udp", "tcp")
	sub := alice.call(bob.aor())
	sub.send(t, "SUBSCRIBE", hdr("Event: presence", "Expires: 600", "Accept: application/pidf+xml"))
	in := bob.request(t, "SUBSCRIBE")
	checkOutOfDialog(t, bob, in, true)
	notifier := bob.accept(in)
	bob.reply(t, in, 200, "OK", hdr("Expires: 600"))
	ok := alice.response(t, 200, "SUBSCRIBE")
	checkRecordRoute(t, s, alice, bob, ok)
	sub.confirm(ok)
	pidf := msgOpts{ctype: "application/pidf+xml", body: `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="` + bob.aor() + `"/>`}
	n, _ := relay(t, notifier, alice, "NOTIFY", pidf.with("Event: presence", "Subscription-State: active;expires=600"), 200, msgOpts{})
	checkInDialog(t, s, alice, bob, n)
	r, _ := relay(t, sub, bob, "SUBSCRIBE", hdr("Event: presence", "Expires: 0"), 200, hdr("Expires: 0"))
	checkInDialog(t, s, bob, alice, r)
	n, _ = relay(t, notifier, alice, "NOTIFY", pidf.with("Event: presence", "Subscription-State: terminated;reason=timeout"), 200, msgOpts{})
	checkInDialog(t, s, alice, bob, n)
}

// TestProxyRFC3261s16_InDialogMethods: inside an INVITE dialog every request
// follows the route set through Parley, in both directions and across
// transports: INFO (RFC 6086), UPDATE (RFC 3311), a re-INVITE adding video
// (§14, not record-routed again), and a blind transfer: REFER (RFC 3515) with
// its NOTIFYs back, then BYE.
func TestProxyRFC3261s16_InDialogMethods(t *testing.T) {
	s := proxyServer(t, nil)
	for _, keys := range [][2]string{{"udp", "udp"}, {"tcp", "udp"}} {
		t.Run(keys[0]+"-"+keys[1], func(t *testing.T) {
			alice, bob := pair(t, s, keys[0], keys[1])
			call, bd := establish(t, s, alice, bob)
			req, _ := relay(t, call, bob, "INFO", msgOpts{ctype: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n"}, 200, msgOpts{})
			checkInDialog(t, s, bob, alice, req)
			req, _ = relay(t, bd, alice, "UPDATE", sdp(false), 200, sdp(false))
			checkInDialog(t, s, alice, bob, req)

			reinvite := call.send(t, "INVITE", sdp(true))
			in := bob.request(t, "INVITE")
			checkInDialog(t, s, bob, alice, in)
			if in.body != reinvite.body || !strings.Contains(in.body, "m=video") {
				t.Errorf("re-INVITE body changed or lost its video:\n%s", in.body)
			}
			if rr := in.lines("Record-Route"); len(rr) != 0 {
				t.Errorf("re-INVITE record-routed again: %q", rr)
			}
			bob.reply(t, in, 200, "OK", sdp(true))
			ok := alice.response(t, 200, "INVITE")
			checkRelayed(t, alice, ok)
			call.confirm(ok)
			call.ack(t)
			checkInDialog(t, s, bob, alice, bob.request(t, "ACK"))

			req, _ = relay(t, call, bob, "REFER", hdr("Refer-To: <sip:carol@example.test>", "Referred-By: <"+alice.aor()+">"), 202, msgOpts{})
			checkInDialog(t, s, bob, alice, req)
			for _, frag := range []struct{ state, body string }{
				{"active;expires=60", "SIP/2.0 100 Trying\r\n"},
				{"terminated;reason=noresource", "SIP/2.0 200 OK\r\n"},
			} {
				o := msgOpts{hdrs: []string{"Event: refer", "Subscription-State: " + frag.state}, ctype: "message/sipfrag", body: frag.body}
				req, _ = relay(t, bd, alice, "NOTIFY", o, 200, msgOpts{})
				checkInDialog(t, s, alice, bob, req)
			}
			hangup(t, bd, alice, bob)
		})
	}
}

// TestProxyRFC3262_ReliableProvisional: a 183 with Require: 100rel and RSeq
// is relayed as is; the caller's PRACK (with RAck) follows the early
// dialog's route set to the callee (RFC 3262 §4, §7), then the call goes on.
func TestProxyRFC3262_ReliableProvisional(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bob := pair(t, s, "udp", "tcp")
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false).with("Supported: 100rel"))
	in := bob.request(t, "INVITE")
	if in.get("Supported") != "100rel" {
		t.Errorf("INVITE Supported %q, want 100rel", in.get("Supported"))
	}
	callee := bob.accept(in)
	bob.reply(t, in, 183, "Session Progress", sdp(false).with("Require: 100rel", "RSeq: 1"))
	early := alice.response(t, 183, "INVITE")
	if early.get("Require") != "100rel" || early.get("RSeq") != "1" {
		t.Errorf("183 lost Require/RSeq:\n%s", early.raw)
	}
	checkRecordRoute(t, s, alice, bob, early)
	call.confirm(early)
	prack, _ := relay(t, call, bob, "PRACK", hdr("RAck: 1 1 INVITE"), 200, msgOpts{})
	checkInDialog(t, s, bob, alice, prack)
	bob.reply(t, in, 200, "OK", msgOpts{})
	ok := alice.response(t, 200, "INVITE")
	call.confirm(ok)
	call.ack(t)
	bob.request(t, "ACK")
	hangup(t, callee, alice, bob)
}
