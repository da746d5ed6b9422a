package test

import (
	"strconv"
	"strings"
	"testing"
)

// TestProxyRFC3261s16_BasicCall: a call through the stateful proxy between
// two registered phones (§16.2-§16.7, §12, §13). Parley answers the INVITE
// with 100 (§16.2), relays 180 and 200 with its Via removed (§16.7 step 3)
// and its Record-Route (with lr) kept (§16.6 step 4); the ACK and the BYE
// follow the route set from either side (§16.12, §12.2). When the call
// changes transport Parley record-routes twice (RFC 5658 §3.2), and each
// in-dialog request reaches the other end over its own transport.
func TestProxyRFC3261s16_BasicCall(t *testing.T) {
	s := proxyServer(t, nil)
	for _, tc := range []struct {
		caller, callee string
		byCallee       bool
	}{
		{"udp", "udp", false}, {"udp", "udp", true},
		{"tcp", "tcp", false}, {"tcp", "tcp", true},
		{"udp", "tcp", false}, {"udp", "tcp", true},
		{"tcp", "udp", true},
	} {
		by := "caller"
		if tc.byCallee {
			by = "callee"
		}
		t.Run(tc.caller+"-"+tc.callee+"/BYE-from-"+by, func(t *testing.T) {
			alice, bob := pair(t, s, tc.caller, tc.callee)
			call, bd := establish(t, s, alice, bob)
			if tc.byCallee {
				hangup(t, bd, alice, bob)
			} else {
				hangup(t, call, bob, alice)
			}
		})
	}
}

// establish runs INVITE / 100 / 180 / 200 / ACK from alice to bob through
// Parley, checks each hop, and returns both sides of the dialog.
func establish(t *testing.T, s *server, alice, bob *phone) (call, callee *dialog) {
	t.Helper()
	call = alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	trying := alice.response(t, 100, "INVITE")
	checkRelayed(t, alice, trying)
	in := bob.request(t, "INVITE")
	checkForwarded(t, s, alice, bob, in)
	callee = bob.accept(in)
	bob.reply(t, in, 180, "Ringing", msgOpts{})
	ringing := alice.response(t, 180, "INVITE")
	checkRelayed(t, alice, ringing)
	checkRecordRoute(t, s, alice, bob, ringing)
	bob.reply(t, in, 200, "OK", sdp(false))
	ok := alice.response(t, 200, "INVITE")
	checkRelayed(t, alice, ok)
	checkRecordRoute(t, s, alice, bob, ok)
	if got := uriOf(ok.get("Contact")); got != bob.contact() {
		t.Errorf("200 Contact %q, want the callee's %q", got, bob.contact())
	}
	if !strings.Contains(ok.body, "m=audio") {
		t.Errorf("200 lost its SDP body:\n%s", ok.raw)
	}
	call.confirm(ok)
	call.ack(t)
	ack := bob.request(t, "ACK")
	checkInDialog(t, s, bob, alice, ack)
	return call, callee
}

// hangup sends BYE from d's phone and answers it at the other end.
func hangup(t *testing.T, d *dialog, other, self *phone) {
	t.Helper()
	d.send(t, "BYE", msgOpts{})
	bye := other.request(t, "BYE")
	checkInDialog(t, nil, other, self, bye)
	other.reply(t, bye, 200, "OK", msgOpts{})
	res := self.response(t, 200, "BYE")
	checkRelayed(t, self, res)
}

// checkRelayed checks a response relayed to p: only p's own Via is left (§16.7 step 3).
func checkRelayed(t *testing.T, p *phone, res *sipMsg) {
	t.Helper()
	vias := res.list("Via")
	if len(vias) != 1 || !strings.Contains(vias[0], p.local.String()) {
		t.Errorf("%d response to %s carries Via %q, want only %s's own", res.code(), p.user, vias, p.user)
	}
}

// checkForwarded checks the INVITE bob got from Parley: the Request-URI is
// bob's contact (§16.5), Max-Forwards is one less (§16.6 step 3), Parley's Via
// is on top of alice's (§16.6 step 8) with a magic-cookie branch.
func checkForwarded(t *testing.T, s *server, alice, bob *phone, in *sipMsg) {
	t.Helper()
	if in.ruri() != bob.contact() {
		t.Errorf("Request-URI %q, want the contact %q", in.ruri(), bob.contact())
	}
	if mf := in.maxForwards(); mf != 69 {
		t.Errorf("Max-Forwards %d, want 69", mf)
	}
	vias := in.list("Via")
	if len(vias) != 2 {
		t.Fatalf("Vias %q, want Parley's above alice's", vias)
	}
	want := "SIP/2.0/" + bob.proto + " " + s.addr(t, strings.ToLower(bob.proto)).String() + ";branch=z9hG4bK"
	if !strings.HasPrefix(vias[0], want) {
		t.Errorf("top Via %q, want prefix %q", vias[0], want)
	}
	if !strings.Contains(vias[1], alice.local.String()) {
		t.Errorf("second Via %q is not alice's", vias[1])
	}
}

// checkRecordRoute checks Parley's Record-Route in a response alice got: one
// entry with lr when the call stays on one transport, two when it changes
// (RFC 5658): the first facing bob, the second facing alice.
func checkRecordRoute(t *testing.T, s *server, alice, bob *phone, res *sipMsg) {
	t.Helper()
	rr := res.list("Record-Route")
	want := []string{bob.proto}
	if alice.proto != bob.proto {
		want = append(want, alice.proto)
	}
	if len(rr) != len(want) {
		t.Fatalf("Record-Route %q, want %d entries (RFC 5658 when transports differ)", rr, len(want))
	}
	for i, proto := range want {
		u := uriOf(rr[i])
		key := strings.ToLower(proto)
		if !strings.HasPrefix(u, "sip:"+s.addr(t, key).String()+";") {
			t.Errorf("Record-Route %d %q does not name the %s listener %s", i, u, proto, s.addr(t, key))
		}
		if tp, _ := uriParam(u, "transport"); !strings.EqualFold(tp, proto) {
			t.Errorf("Record-Route %d %q: transport %q, want %s", i, u, tp, proto)
		}
		if _, ok := uriParam(u, "lr"); !ok {
			t.Errorf("Record-Route %d %q lacks lr (§16.6 step 4)", i, u)
		}
	}
}

// checkInDialog checks an in-dialog request that `to` got from `from` through
// Parley: Request-URI = to's contact (the remote target), no Route left
// (Parley removed its own, §16.4), Parley's Via on top with to's transport,
// and no Record-Route added.
func checkInDialog(t *testing.T, s *server, to, from *phone, req *sipMsg) {
	t.Helper()
	if req.ruri() != to.contact() {
		t.Errorf("%s Request-URI %q, want the remote target %q", req.method(), req.ruri(), to.contact())
	}
	if r := req.lines("Route"); len(r) != 0 {
		t.Errorf("%s still carries Route %q", req.method(), r)
	}
	vias := req.list("Via")
	if len(vias) != 2 || !strings.HasPrefix(vias[0], "SIP/2.0/"+to.proto+" ") || !strings.Contains(vias[1], from.local.String()) {
		t.Errorf("%s Vias %q, want Parley's (%s) above %s's", req.method(), vias, to.proto, from.user)
	}
	if s != nil && !strings.Contains(vias[0], s.addr(t, strings.ToLower(to.proto)).String()) {
		t.Errorf("%s top Via %q does not name Parley's %s listener", req.method(), vias[0], to.proto)
	}
	if n, _ := req.cseq(); n == 0 {
		t.Errorf("%s has no CSeq number", req.method())
	}
	if mf := req.maxForwards(); mf != 69 {
		t.Errorf("%s Max-Forwards %s, want 69", req.method(), strconv.Itoa(mf))
	}
}
