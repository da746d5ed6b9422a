package test

import (
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// TestProxyRFC3261s16_8_TimerC: Timer C (timers.timer_c = 2s here) bounds an
// INVITE branch. After a provisional it makes Parley CANCEL the branch; the
// callee's 487 then reaches the caller, and a callee that ignores the CANCEL
// is given up with 408 after 64*T1 (§16.8, §9.1). A branch with no
// provisional at all ends as if it had received 408 (§16.8).
func TestProxyRFC3261s16_8_TimerC(t *testing.T) {
	const timerC = 2 * time.Second
	s := proxyServer(t, func(cfg *config.Config) {
		cfg.Timers.TimerC = config.Duration(timerC)
		cfg.Timers.T1 = config.Duration(50 * time.Millisecond) // 64*T1 = 3.2s
	})
	t.Run("180 then silence: CANCEL, 487", func(t *testing.T) {
		t.Parallel()
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		bob.reply(t, in, 180, "Ringing", msgOpts{})
		start := time.Now()
		alice.response(t, 180, "INVITE")
		cancel := bob.waitUpTo(t, timerC+replyTimeout, "CANCEL from Timer C", isRequest("CANCEL"))
		if d := time.Since(start); d < timerC-200*time.Millisecond || d > timerC+time.Second {
			t.Errorf("CANCEL %v after the 180, want about Timer C = %v", d, timerC)
		}
		checkCancel(t, in, cancel)
		bob.reply(t, cancel, 200, "OK", msgOpts{})
		sent := bob.reply(t, in, 487, "Request Terminated", msgOpts{})
		checkHopAck(t, in, bob.request(t, "ACK"), toTag(sent.raw))
		res := alice.final(t, "INVITE")
		if res.code() != 487 && res.code() != 408 {
			t.Errorf("caller got %q, want 487 or 408", res.start)
		}
		call.ackFinal(t, res)
	})
	t.Run("180 then deaf: 408", func(t *testing.T) {
		t.Parallel()
		deafCallee(t, s, "udp", timerC)
	})
	t.Run("deaf callee's transaction destroyed (§9.1)", func(t *testing.T) {
		t.Parallel()
		// TCP everywhere: Timers D, I, J and K are 0, so every transaction
		// of the call is gone 64*T1 after its end, unless one leaks.
		s := proxyServer(t, func(cfg *config.Config) {
			cfg.Timers.TimerC = config.Duration(time.Second)
			cfg.Timers.T1 = config.Duration(50 * time.Millisecond)
		})
		deafCallee(t, s, "tcp", time.Second)
		live := func() int64 { return s.stats().Transactions.Live }
		if !waitFor(4*time.Second, func() bool { return live() == 0 }) {
			t.Errorf("%d transactions still alive 64*T1 after the call ended; §9.1: the client "+
				"transaction of a CANCELled INVITE with no final response SHOULD be destroyed after 64*T1", live())
		}
	})
	t.Run("no provisional: 408", func(t *testing.T) {
		t.Parallel()
		// Timer B (64*T1 = 3.2s) would end this branch too; Timer C comes first.
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		start := time.Now()
		call.send(t, "INVITE", sdp(false))
		bob.request(t, "INVITE")
		res := alice.waitUpTo(t, timerC+replyTimeout, "final response", isFinal("INVITE"))
		if res.code() != 408 {
			t.Errorf("caller got %q, want 408", res.start)
		}
		if d := time.Since(start); d < timerC-200*time.Millisecond || d > timerC+time.Second {
			t.Errorf("408 after %v, want about Timer C = %v", d, timerC)
		}
		call.ackFinal(t, res)
		bob.none(t, 0, "CANCEL for a branch without provisional (§9.1)", isRequest("CANCEL"))
	})
}

// deafCallee has the callee answer 180 and then ignore everything, the CANCEL
// Timer C sends included: the caller gets 408 once Parley gives the branch up,
// 64*T1 after the CANCEL.
func deafCallee(t *testing.T, s *server, key string, timerC time.Duration) {
	t.Helper()
	alice, bob := pair(t, s, key, key)
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in := bob.request(t, "INVITE")
	bob.reply(t, in, 180, "Ringing", msgOpts{})
	start := time.Now()
	alice.response(t, 180, "INVITE")
	bob.waitUpTo(t, timerC+replyTimeout, "CANCEL from Timer C", isRequest("CANCEL"))
	giveUp := 64 * s.cfg.Timers.T1.Std()
	res := alice.waitUpTo(t, timerC+giveUp+replyTimeout, "final response", isFinal("INVITE"))
	if res.code() != 408 {
		t.Errorf("caller got %q, want 408", res.start)
	}
	if d := time.Since(start); d < timerC+giveUp-200*time.Millisecond {
		t.Errorf("408 after %v, want Timer C + 64*T1 = %v", d, timerC+giveUp)
	}
	call.ackFinal(t, res)
}
