package test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/users"
)

// TestProxyRFC3261s16_7_FinalFailure: a callee's 486 or 603 goes to the
// caller as the best (only) final response (§16.7 steps 6-8), with Parley's
// Via removed and the callee's To tag kept; Parley's client transaction
// acknowledges it to the callee itself (§17.1.1.3: same branch and
// Request-URI as the INVITE it sent, hop by hop), and the caller's ACK is
// absorbed by Parley's server transaction (§17.2.1), not forwarded.
func TestProxyRFC3261s16_7_FinalFailure(t *testing.T) {
	s := proxyServer(t, nil)
	for _, tc := range []struct {
		code   int
		reason string
		key    string
	}{{486, "Busy Here", "udp"}, {603, "Decline", "udp"}, {486, "Busy Here", "tcp"}} {
		t.Run(tc.reason+"/"+tc.key, func(t *testing.T) {
			alice, bob := pair(t, s, tc.key, tc.key)
			call := alice.call(bob.aor())
			call.send(t, "INVITE", sdp(false))
			in := bob.request(t, "INVITE")
			sent := bob.reply(t, in, tc.code, tc.reason, msgOpts{})
			res := alice.final(t, "INVITE")
			if res.code() != tc.code {
				t.Fatalf("caller got %q, want %d", res.start, tc.code)
			}
			checkRelayed(t, alice, res)
			if toTag(res.raw) != toTag(sent.raw) {
				t.Errorf("To tag %q, want the callee's %q", toTag(res.raw), toTag(sent.raw))
			}
			ack := bob.request(t, "ACK")
			checkHopAck(t, in, ack, toTag(sent.raw))
			call.ackFinal(t, res)
			bob.none(t, quietPeriod, "second ACK (the caller's must be absorbed)", isRequest("ACK"))
			alice.none(t, 0, "second final response", func(m *sipMsg) bool { return !m.isRequest() && m.code() >= 200 })
		})
	}
}

// checkHopAck checks the ACK Parley sent for a non-2xx final response to the
// INVITE in (§17.1.1.3): the INVITE's Request-URI and top Via (branch), one
// Via only, the response's To tag, CSeq method ACK.
func checkHopAck(t *testing.T, in, ack *sipMsg, tag string) {
	t.Helper()
	if ack.ruri() != in.ruri() {
		t.Errorf("ACK Request-URI %q, want the INVITE's %q", ack.ruri(), in.ruri())
	}
	if v := ack.list("Via"); len(v) != 1 || v[0] != in.list("Via")[0] {
		t.Errorf("ACK Vias %q, want only the INVITE's top Via %q", v, in.list("Via")[0])
	}
	if n, m := ack.cseq(); m != "ACK" || n != mustCSeq(in) {
		t.Errorf("ACK CSeq %q, want %d ACK", ack.get("CSeq"), mustCSeq(in))
	}
	if toTag(ack.raw) != tag {
		t.Errorf("ACK To tag %q, want %q", toTag(ack.raw), tag)
	}
}

func mustCSeq(m *sipMsg) int { n, _ := m.cseq(); return n }

// TestProxyRFC3261s16_5_NoTarget: §16.5 — a user of our domain with no
// binding has an empty target set: 404 for an unknown user, and for a known
// one 404 by default (no user enumeration) or 480 with
// proxy.unregistered_480 (§21.4.18).
func TestProxyRFC3261s16_5_NoTarget(t *testing.T) {
	addCarol := func(cfg *config.Config) { addProxyUser(t, cfg.DB, "carol@example.test") }
	for _, tc := range []struct {
		name  string
		edit  func(*config.Config)
		user  string
		want  int
		known bool
	}{
		{"unknown user", nil, "nobody", 404, false},
		{"known user, default", addCarol, "carol", 404, true},
		{"known user, unregistered_480", func(cfg *config.Config) {
			addCarol(cfg)
			cfg.Proxy.Unregistered480 = true
		}, "carol", 480, true},
		{"unknown user, unregistered_480", func(cfg *config.Config) {
			addCarol(cfg)
			cfg.Proxy.Unregistered480 = true
		}, "nobody", 404, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := proxyServer(t, tc.edit)
			alice := newPhone(t, s, "udp", uniq("alice"))
			call := alice.call("sip:" + tc.user + "@example.test")
			call.send(t, "INVITE", sdp(false))
			res := alice.final(t, "INVITE")
			if res.code() != tc.want {
				t.Errorf("got %q, want %d", res.start, tc.want)
			}
			call.ackFinal(t, res)
			call.send(t, "MESSAGE", msgOpts{ctype: "text/plain", body: "hi"})
			if res := alice.final(t, "MESSAGE"); res.code() != tc.want {
				t.Errorf("MESSAGE got %q, want %d", res.start, tc.want)
			}
		})
	}
}

// addProxyUser creates users in the SQLite database dsn before the App opens
// it, through the store that `parley user add` uses.
func addProxyUser(t *testing.T, dsn string, aors ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, aor := range aors {
		if err := users.New(d).Add(ctx, aor, "proxy-e2e-pw"); err != nil {
			t.Fatalf("add %s: %v", aor, err)
		}
	}
}

// TestProxyRFC3261s16_10_Cancel: the caller cancels after 180. Parley answers
// the CANCEL with 200 itself (§16.10, §9.2), cancels the branch towards the
// callee (a CANCEL with the branch of the INVITE it sent, §9.1), the callee's
// 487 reaches the caller and Parley acknowledges the 487 to the callee.
func TestProxyRFC3261s16_10_Cancel(t *testing.T) {
	s := proxyServer(t, nil)
	for _, keys := range [][2]string{{"udp", "udp"}, {"tcp", "tcp"}, {"udp", "tcp"}} {
		t.Run(keys[0]+"-"+keys[1], func(t *testing.T) {
			alice, bob := pair(t, s, keys[0], keys[1])
			call := alice.call(bob.aor())
			call.send(t, "INVITE", sdp(false))
			in := bob.request(t, "INVITE")
			bob.reply(t, in, 180, "Ringing", msgOpts{})
			alice.response(t, 180, "INVITE")
			call.cancel(t)
			if res := alice.response(t, 200, "CANCEL"); len(res.list("Via")) != 1 {
				t.Errorf("200 for CANCEL has Vias %q", res.list("Via"))
			}
			cancel := bob.request(t, "CANCEL")
			checkCancel(t, in, cancel)
			bob.reply(t, cancel, 200, "OK", msgOpts{})
			sent := bob.reply(t, in, 487, "Request Terminated", msgOpts{})
			res := alice.final(t, "INVITE")
			if res.code() != 487 {
				t.Fatalf("caller got %q, want 487", res.start)
			}
			checkRelayed(t, alice, res)
			checkHopAck(t, in, bob.request(t, "ACK"), toTag(sent.raw))
			call.ackFinal(t, res)
			bob.none(t, quietPeriod, "anything more", func(*sipMsg) bool { return true })
		})
	}
}

// checkCancel checks a CANCEL Parley sent for the INVITE in (§9.1): same
// Request-URI, one Via equal to the INVITE's top Via, CSeq number, Call-ID,
// From and To.
func checkCancel(t *testing.T, in, cancel *sipMsg) {
	t.Helper()
	if cancel.ruri() != in.ruri() {
		t.Errorf("CANCEL Request-URI %q, want %q", cancel.ruri(), in.ruri())
	}
	if v := cancel.list("Via"); len(v) != 1 || v[0] != in.list("Via")[0] {
		t.Errorf("CANCEL Vias %q, want only the INVITE's top Via %q", v, in.list("Via")[0])
	}
	if n, m := cancel.cseq(); m != "CANCEL" || n != mustCSeq(in) {
		t.Errorf("CANCEL CSeq %q", cancel.get("CSeq"))
	}
	for _, h := range []string{"Call-ID", "From", "To"} {
		if cancel.get(h) != in.get(h) {
			t.Errorf("CANCEL %s %q, want the INVITE's %q", h, cancel.get(h), in.get(h))
		}
	}
	if strings.Contains(cancel.raw, "Record-Route") {
		t.Errorf("CANCEL carries Record-Route:\n%s", cancel.raw)
	}
}

// TestProxyRFC3261s17_1_1_2_ImmediateProvisional: a callee that answers 180
// at once, before Parley's client transaction has finished starting, must
// still move it to Proceeding (§17.1.1.2): no INVITE retransmission after the
// 180, and a CANCEL goes out when the caller cancels (§9.1, §16.10).
func TestProxyRFC3261s17_1_1_2_ImmediateProvisional(t *testing.T) {
	s := proxyServer(t, func(cfg *config.Config) { cfg.Timers.T1 = config.Duration(50 * time.Millisecond) })
	for i := range 30 {
		alice, bob := pair(t, s, "udp", "udp")
		bob.fast = true
		call := alice.call(bob.aor())
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		bob.reply(t, in, 180, "Ringing", msgOpts{})
		alice.response(t, 180, "INVITE")
		call.cancel(t)
		alice.response(t, 200, "CANCEL")
		cancel := bob.waitUpTo(t, time.Second, "CANCEL (call "+strconv.Itoa(i)+")", isRequest("CANCEL"))
		if n := bob.retransmitted("INVITE"); n > 0 {
			t.Errorf("call %d: INVITE retransmitted %d times after the 180", i, n)
		}
		bob.reply(t, cancel, 200, "OK", msgOpts{})
		bob.reply(t, in, 487, "Request Terminated", msgOpts{})
		bob.request(t, "ACK")
		call.ackFinal(t, alice.final(t, "INVITE"))
	}
}
