package test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// forkPhones opens a caller and one callee phone per entry of params, all
// registered as the same user with those Contact parameters (";q=0.5").
func forkPhones(t *testing.T, s *server, params ...string) (*phone, []*phone) {
	t.Helper()
	user := uniq("bob")
	alice := newPhone(t, s, "udp", uniq("alice"))
	alice.register(t, "")
	var bobs []*phone
	for _, p := range params {
		b := newPhone(t, s, "udp", user)
		b.register(t, p)
		bobs = append(bobs, b)
	}
	return alice, bobs
}

// isFinal matches any final response to method.
func isFinal(method string) func(*sipMsg) bool {
	return func(m *sipMsg) bool { return !m.isRequest() && m.code() >= 200 && m.cseqMethod() == method }
}

// TestProxyRFC3261s16_6_ParallelFork: two contacts with equal q get the
// INVITE at once (§16.6, one branch each, distinct branch parameters). Both
// 180s are relayed (§16.7 step 5). When one answers 200, the other branch is
// cancelled (§16.7 step 10) and its 487 is absorbed: the caller gets exactly
// one final response, the 200.
func TestProxyRFC3261s16_6_ParallelFork(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bobs := forkPhones(t, s, "", "")
	call := alice.call(bobs[0].aor())
	call.send(t, "INVITE", sdp(false))
	in0, in1 := bobs[0].request(t, "INVITE"), bobs[1].request(t, "INVITE")
	if b0, b1 := in0.list("Via")[0], in1.list("Via")[0]; b0 == b1 {
		t.Errorf("both branches carry Via %q", b0)
	}
	bobs[0].reply(t, in0, 180, "Ringing", msgOpts{})
	bobs[1].reply(t, in1, 180, "Ringing", msgOpts{})
	r1, r2 := alice.response(t, 180, "INVITE"), alice.response(t, 180, "INVITE")
	if toTag(r1.raw) == toTag(r2.raw) {
		t.Errorf("the two 180s have the same To tag %q", toTag(r1.raw))
	}
	bobs[0].reply(t, in0, 200, "OK", sdp(false))
	ok := alice.response(t, 200, "INVITE")
	cancel := bobs[1].request(t, "CANCEL")
	checkCancel(t, in1, cancel)
	bobs[1].reply(t, cancel, 200, "OK", msgOpts{})
	sent := bobs[1].reply(t, in1, 487, "Request Terminated", msgOpts{})
	checkHopAck(t, in1, bobs[1].request(t, "ACK"), toTag(sent.raw))
	alice.none(t, quietPeriod, "second final response", isFinal("INVITE"))
	bobs[0].none(t, 0, "CANCEL to the answering branch", isRequest("CANCEL"))
	call.confirm(ok)
	call.ack(t)
	bobs[0].request(t, "ACK")
	bobs[1].none(t, 50*time.Millisecond, "ACK for the 2xx on the cancelled branch", isRequest("ACK"))
	hangup(t, call, bobs[0], alice)
}

// TestProxyRFC3261s16_6_SerialFork: contacts are tried from the highest q;
// the q=0.5 contact gets the INVITE only after the q=1.0 one failed (§16.6,
// RFC 3261 §16.7 step 1 and §20.10). A 6xx ends the search: no new branch is
// created (§16.7 step 5).
func TestProxyRFC3261s16_6_SerialFork(t *testing.T) {
	s := proxyServer(t, nil)
	t.Run("480 then next q", func(t *testing.T) {
		alice, bobs := forkPhones(t, s, ";q=1.0", ";q=0.5")
		call := alice.call(bobs[0].aor())
		call.send(t, "INVITE", sdp(false))
		in0 := bobs[0].request(t, "INVITE")
		bobs[1].none(t, quietPeriod, "INVITE before the q=1.0 branch ended", isRequest("INVITE"))
		sent := bobs[0].reply(t, in0, 480, "Temporarily Unavailable", msgOpts{})
		checkHopAck(t, in0, bobs[0].request(t, "ACK"), toTag(sent.raw))
		in1 := bobs[1].request(t, "INVITE")
		if in1.ruri() != bobs[1].contact() {
			t.Errorf("second branch Request-URI %q, want %q", in1.ruri(), bobs[1].contact())
		}
		bobs[1].reply(t, in1, 200, "OK", sdp(false))
		ok := alice.final(t, "INVITE")
		if ok.code() != 200 {
			t.Fatalf("caller got %q, want the second branch's 200", ok.start)
		}
		call.confirm(ok)
		call.ack(t)
		bobs[1].request(t, "ACK")
		hangup(t, call, bobs[1], alice)
	})
	t.Run("603 stops the search", func(t *testing.T) {
		alice, bobs := forkPhones(t, s, ";q=1.0", ";q=0.5")
		call := alice.call(bobs[0].aor())
		call.send(t, "INVITE", sdp(false))
		in0 := bobs[0].request(t, "INVITE")
		bobs[0].reply(t, in0, 603, "Decline", msgOpts{})
		res := alice.final(t, "INVITE")
		if res.code() != 603 {
			t.Errorf("caller got %q, want 603", res.start)
		}
		call.ackFinal(t, res)
		bobs[1].none(t, quietPeriod, "INVITE after a 6xx", isRequest("INVITE"))
	})
}

// TestProxyRFC3261s16_7_BestResponse: §16.7 step 6 — when every branch
// failed, the caller gets the best final response: a 6xx if any, else one
// from the lowest class, preferring 401/407/415/420/484 in 4xx; a 503 is
// passed on as 500. Each branch's response is acknowledged by Parley.
func TestProxyRFC3261s16_7_BestResponse(t *testing.T) {
	s := proxyServer(t, nil)
	for _, tc := range []struct {
		name  string
		codes [2]int
		want  []int // any of these
	}{
		{"486 and 404: a 4xx", [2]int{486, 404}, []int{486, 404}},
		{"404 and 486: a 4xx", [2]int{404, 486}, []int{486, 404}},
		{"500 and 486: lowest class", [2]int{500, 486}, []int{486}},
		{"302 and 486: lowest class", [2]int{302, 486}, []int{302}},
		{"404 and 407: preferred 407", [2]int{404, 407}, []int{407}},
		{"415 and 480: preferred 415", [2]int{480, 415}, []int{415}},
		{"503 and 503: never 503", [2]int{503, 503}, []int{500}},
		{"503 and 500: never 503", [2]int{503, 500}, []int{500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bobs := forkPhones(t, s, "", "")
			call := alice.call(bobs[0].aor())
			call.send(t, "INVITE", sdp(false))
			for i, b := range bobs {
				in := b.request(t, "INVITE")
				o := msgOpts{}
				switch tc.codes[i] {
				case 407:
					o = hdr(`Proxy-Authenticate: Digest realm="gw.test", nonce="n1", algorithm=MD5`)
				case 302:
					o = hdr("Contact: <sip:elsewhere@127.0.0.1:9>")
				}
				sent := b.reply(t, in, tc.codes[i], "Failure", o)
				checkHopAck(t, in, b.request(t, "ACK"), toTag(sent.raw))
			}
			res := alice.final(t, "INVITE")
			if !slices.Contains(tc.want, res.code()) {
				t.Errorf("caller got %q, want one of %v", res.start, tc.want)
			}
			if res.code() == 407 && !strings.Contains(res.get("Proxy-Authenticate"), `realm="gw.test"`) {
				t.Errorf("407 lost its challenge:\n%s", res.raw)
			}
			checkRelayed(t, alice, res)
			call.ackFinal(t, res)
			alice.none(t, 0, "second final response", isFinal("INVITE"))
		})
	}
}

// TestProxyRFC3261s16_7_SixxxCancelsOthers: a 6xx on one branch makes Parley
// cancel the pending branches (§16.7 step 5: "the proxy SHOULD cancel all
// client pending transactions"); the 6xx is the final response the caller
// gets once they end, not their 487 (§16.7 step 6).
func TestProxyRFC3261s16_7_SixxxCancelsOthers(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bobs := forkPhones(t, s, "", "")
	call := alice.call(bobs[0].aor())
	call.send(t, "INVITE", sdp(false))
	in0, in1 := bobs[0].request(t, "INVITE"), bobs[1].request(t, "INVITE")
	bobs[0].reply(t, in0, 180, "Ringing", msgOpts{})
	alice.response(t, 180, "INVITE")
	sent := bobs[1].reply(t, in1, 603, "Decline", msgOpts{})
	checkHopAck(t, in1, bobs[1].request(t, "ACK"), toTag(sent.raw))
	cancel := bobs[0].request(t, "CANCEL")
	checkCancel(t, in0, cancel)
	bobs[0].reply(t, cancel, 200, "OK", msgOpts{})
	sent0 := bobs[0].reply(t, in0, 487, "Request Terminated", msgOpts{})
	checkHopAck(t, in0, bobs[0].request(t, "ACK"), toTag(sent0.raw))
	res := alice.final(t, "INVITE")
	if res.code() != 603 {
		t.Fatalf("caller got %q, want 603", res.start)
	}
	if toTag(res.raw) != toTag(sent.raw) {
		t.Errorf("603 To tag %q, want the declining branch's %q", toTag(res.raw), toTag(sent.raw))
	}
	call.ackFinal(t, res)
	alice.none(t, quietPeriod, "second final response", isFinal("INVITE"))
}

// TestProxyRFC3261s16_9_UnreachableBranches: a branch whose transport fails
// counts as 503 (§16.9), one that never answers as 408 (§16.7 step 2,
// Timer B). 503 is never relayed: with 503 and a transport error the caller
// gets 500; with 503 and a timeout the lowest class is 4xx, so 408.
func TestProxyRFC3261s16_9_UnreachableBranches(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) { cfg.Timers.T1 = config.Duration(50 * time.Millisecond) })
	t.Run("503 and transport error: 500", func(t *testing.T) {
		alice, bobs := forkPhones(t, s, "")
		dead := deadTCPContact(t, s, bobs[0].user)
		call := alice.call(bobs[0].aor())
		call.send(t, "INVITE", sdp(false))
		in := bobs[0].request(t, "INVITE")
		bobs[0].reply(t, in, 503, "Service Unavailable", hdr("Retry-After: 60"))
		res := alice.final(t, "INVITE")
		if res.code() != 500 {
			t.Errorf("caller got %q, want 500 (503 from one branch, transport error to %s on the other)", res.start, dead)
		}
		call.ackFinal(t, res)
	})
	t.Run("503 and timeout: 408", func(t *testing.T) {
		alice, bobs := forkPhones(t, s, "", "")
		call := alice.call(bobs[0].aor())
		start := time.Now()
		call.send(t, "INVITE", sdp(false))
		in := bobs[0].request(t, "INVITE")
		bobs[1].request(t, "INVITE") // and never answer: Timer B is 64*T1 = 3.2s
		bobs[0].reply(t, in, 503, "Service Unavailable", msgOpts{})
		res := alice.waitUpTo(t, 6*time.Second, "final response", isFinal("INVITE"))
		if res.code() != 408 {
			t.Errorf("caller got %q, want 408 (lowest class of 503 and a timeout)", res.start)
		}
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("final response after %v, before Timer B (3.2s)", d)
		}
		call.ackFinal(t, res)
	})
}

// deadTCPContact registers for user a TCP contact whose connection is then
// closed and whose port no longer listens, so that forwarding to it fails.
func deadTCPContact(t *testing.T, s *server, user string) string {
	t.Helper()
	p := newPhone(t, s, "tcp", user)
	p.register(t, "")
	open := func() uint64 { return s.stats().Transport.TCP.ConnsOpen }
	before := open()
	p.close() // the port was the client side of the connection: nothing listens there
	if !waitFor(replyTimeout, func() bool { return open() < before }) {
		t.Fatalf("Parley still counts %d TCP connections open", open())
	}
	return p.contact()
}

// TestProxyRFC3261s16_7_CombinedChallenges: §16.7 step 7 — when branches
// answer 407 with different challenges, the caller's 407 carries every
// Proxy-Authenticate of them (and likewise WWW-Authenticate for 401).
func TestProxyRFC3261s16_7_CombinedChallenges(t *testing.T) {
	s := proxyServer(t, nil)
	for _, tc := range []struct {
		code   int
		header string
	}{{407, "Proxy-Authenticate"}, {401, "WWW-Authenticate"}} {
		t.Run(tc.header, func(t *testing.T) {
			alice, bobs := forkPhones(t, s, "", "")
			call := alice.call(bobs[0].aor())
			call.send(t, "INVITE", sdp(false))
			for i, b := range bobs {
				in := b.request(t, "INVITE")
				realm := []string{"a.test", "b.test"}[i]
				sent := b.reply(t, in, tc.code, "Authentication Required",
					hdr(tc.header+`: Digest realm="`+realm+`", nonce="n`+realm+`", algorithm=MD5`))
				checkHopAck(t, in, b.request(t, "ACK"), toTag(sent.raw))
			}
			res := alice.final(t, "INVITE")
			if res.code() != tc.code {
				t.Fatalf("caller got %q, want %d", res.start, tc.code)
			}
			got := strings.Join(res.lines(tc.header), "\n")
			for _, realm := range []string{"a.test", "b.test"} {
				if !strings.Contains(got, `realm="`+realm+`"`) {
					t.Errorf("%d lacks the challenge of realm %s; has:\n%s", tc.code, realm, got)
				}
			}
			checkRelayed(t, alice, res)
			call.ackFinal(t, res)
		})
	}
}

// TestProxyRFC3261s16_7_Forked2xx: every 2xx to an INVITE is forwarded
// upstream, even after a final response went (§16.7 step 5, RFC 6026 §7):
// two branches answering 200 at once give the caller two dialogs, and so
// does a 200 that crosses Parley's CANCEL. The caller acknowledges both
// and hangs up the one it does not want (§13.2.2.4).
func TestProxyRFC3261s16_7_Forked2xx(t *testing.T) {
	s := proxyServer(t, nil)
	for _, crossing := range []bool{false, true} {
		name := "both answer"
		if crossing {
			name = "200 crosses the CANCEL"
		}
		t.Run(name, func(t *testing.T) {
			alice, bobs := forkPhones(t, s, "", "")
			call := alice.call(bobs[0].aor())
			call.send(t, "INVITE", sdp(false))
			in0, in1 := bobs[0].request(t, "INVITE"), bobs[1].request(t, "INVITE")
			if crossing {
				bobs[1].reply(t, in1, 180, "Ringing", msgOpts{})
				alice.response(t, 180, "INVITE")
			}
			bobs[0].reply(t, in0, 200, "OK", sdp(false))
			if crossing {
				cancel := bobs[1].request(t, "CANCEL")
				bobs[1].reply(t, in1, 200, "OK", sdp(false)) // sent before the CANCEL was seen
				bobs[1].reply(t, cancel, 200, "OK", msgOpts{})
			} else {
				bobs[1].reply(t, in1, 200, "OK", sdp(false))
			}
			first, second := alice.response(t, 200, "INVITE"), alice.response(t, 200, "INVITE")
			if toTag(first.raw) == toTag(second.raw) {
				t.Fatalf("both 200s carry To tag %q", toTag(first.raw))
			}
			byTag := map[string]*phone{toTag(first.raw): nil, toTag(second.raw): nil}
			for _, b := range bobs {
				byTag[b.tagFor(in0.get("Call-ID"))] = b
			}
			var keep *dialog
			for i, res := range []*sipMsg{first, second} {
				b := byTag[toTag(res.raw)]
				if b == nil {
					t.Fatalf("200 with unknown To tag %q", toTag(res.raw))
				}
				d := *call // one dialog per 2xx (§13.2.2.4)
				d.remoteTag, d.route = "", nil
				d.confirm(res)
				d.ack(t)
				b.request(t, "ACK")
				if i == 0 {
					keep = &d
				} else {
					hangup(t, &d, b, alice)
				}
			}
			hangup(t, keep, byTag[toTag(first.raw)], alice)
		})
	}
}
