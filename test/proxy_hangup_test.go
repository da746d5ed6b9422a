package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// TestProxyRFC3261s12_2_OwnByeRouteSet: when Parley ends a call itself
// (calls.max_duration here; `parley calls end` and a shutdown take the same
// path), each BYE is built as the other end would build it (§12.2.1.1): the
// remote target as Request-URI, the route set on that end's side of Parley
// as Route (the INVITE's Record-Routes toward the caller, the 2xx's above
// ours reversed toward the callee), and a strict router first makes its URI
// the Request-URI with the remote target as the last Route. The dialog's
// tags, a CSeq above the end's own and a Reason go with it; a proxy of
// Parley's own Record-Route never appears in it.
func TestProxyRFC3261s12_2_OwnByeRouteSet(t *testing.T) {
	s := proxyServer(t, func(c *config.Config) { c.Calls.MaxDuration = config.Duration(time.Second) })
	for _, tc := range []struct {
		name, callerRR string // the Record-Route of a proxy between the caller and Parley
		strict         bool
	}{
		{"loose", "<sip:p1.invalid;lr>", false},
		{"strict", "<sip:p1.invalid>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bob := pair(t, s, "udp", "udp")
			call := alice.call(bob.aor())
			call.send(t, "INVITE", sdp(false).with("Record-Route: "+tc.callerRR))
			in := bob.request(t, "INVITE")
			answerBehindProxy(t, bob, in, "<sip:p2.invalid;lr>")
			alice.response(t, 200, "INVITE")

			toAlice := alice.waitUpTo(t, 3*time.Second, "Parley's BYE to the caller", isRequest("BYE"))
			wantRoute := []string{tc.callerRR}
			wantRURI := alice.contact()
			if tc.strict {
				wantRoute, wantRURI = []string{"<" + alice.contact() + ">"}, "sip:p1.invalid"
			}
			checkOwnBye(t, toAlice, wantRURI, wantRoute)
			if tag := paramOf(toAlice.get("From"), "tag"); tag != bob.tagFor(call.callID) {
				t.Errorf("BYE to the caller: From tag %q, want the callee's %q", tag, bob.tagFor(call.callID))
			}
			if tag := paramOf(toAlice.get("To"), "tag"); tag != call.localTag {
				t.Errorf("BYE to the caller: To tag %q, want the caller's %q", tag, call.localTag)
			}

			toBob := bob.waitUpTo(t, time.Second, "Parley's BYE to the callee", isRequest("BYE"))
			checkOwnBye(t, toBob, bob.contact(), []string{"<sip:p2.invalid;lr>"})
			if tag := paramOf(toBob.get("From"), "tag"); tag != call.localTag {
				t.Errorf("BYE to the callee: From tag %q, want the caller's %q", tag, call.localTag)
			}
			if n, _ := toBob.cseq(); n <= 1 {
				t.Errorf("BYE to the callee: CSeq %d, want above the caller's INVITE (1)", n)
			}
			alice.reply(t, toAlice, 200, "OK", msgOpts{})
			bob.reply(t, toBob, 200, "OK", msgOpts{})
		})
	}
}

// answerBehindProxy answers an INVITE with 200 as a callee behind a proxy
// that record-routed rr: rr comes above the Record-Routes of the request.
func answerBehindProxy(t *testing.T, p *phone, req *sipMsg, rr string) {
	t.Helper()
	var h []string
	for _, v := range req.lines("Via") {
		h = append(h, "Via: "+v)
	}
	h = append(h, "Record-Route: "+rr)
	for _, v := range req.lines("Record-Route") {
		h = append(h, "Record-Route: "+v)
	}
	h = append(h, "From: "+req.get("From"), "To: "+req.get("To")+";tag="+p.tagFor(req.get("Call-ID")),
		"Call-ID: "+req.get("Call-ID"), "CSeq: "+req.get("CSeq"), "Contact: <"+p.contact()+">")
	p.send(t, buildMsg("SIP/2.0 200 OK", h, "", ""))
}

// checkOwnBye checks the Request-URI, the Route values and the Reason of a
// BYE Parley sent.
func checkOwnBye(t *testing.T, bye *sipMsg, ruri string, route []string) {
	t.Helper()
	if bye.ruri() != ruri {
		t.Errorf("BYE Request-URI %q, want %q\n%s", bye.ruri(), ruri, bye.raw)
	}
	if got := bye.list("Route"); strings.Join(got, ",") != strings.Join(route, ",") {
		t.Errorf("BYE Route %q, want %q\n%s", got, route, bye.raw)
	}
	if r := bye.get("Reason"); !strings.Contains(r, "SIP;cause=200") || !strings.Contains(r, "Call duration limit") {
		t.Errorf("BYE Reason %q\n%s", r, bye.raw)
	}
	if _, err := strconv.Atoi(bye.get("Max-Forwards")); err != nil {
		t.Errorf("BYE without Max-Forwards\n%s", bye.raw)
	}
}
