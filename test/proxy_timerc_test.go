package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/config"
)

// TestProxyRFC3261s16_8_TimerC: Timer C (timers.timer_c = 2s here) bounds an
// INVITE branch. After a provisional it makes Parley CANCEL the branch; the
// callee's 487 then means nobody answered, so the caller gets 408 (as from
// Kamailio's fr_inv_timer) and the call record says no_answer, missed; a
// callee that ignores the CANCEL is given up with 408 after 64*T1 (§16.8,
// §9.1), however many provisionals it sends after the CANCEL. A branch with
// no provisional at all ends as if it had received 408 (§16.8): its client
// transaction ends (no more INVITE retransmissions), and a 2xx arriving after
// that is not relayed to a caller who has had a 408 but acknowledged and
// hung up by Parley.
func TestProxyRFC3261s16_8_TimerC(t *testing.T) {
	const timerC = 2 * time.Second
	cdrFile := filepath.Join(t.TempDir(), "cdr.jsonl")
	s := proxyServer(t, func(cfg *config.Config) {
		cfg.Timers.TimerC = config.Duration(timerC)
		cfg.Timers.T1 = config.Duration(50 * time.Millisecond) // 64*T1 = 3.2s
		cfg.Calls.CDRFile = cdrFile
	})
	t.Run("180 then silence: CANCEL, 487, caller gets 408", func(t *testing.T) {
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
		if res.code() != 408 {
			t.Errorf("caller got %q, want 408: the callee's 487 answers Parley's CANCEL, nobody answered", res.start)
		}
		call.ackFinal(t, res)
		r := cdrOf(t, cdrFile, call.callID)
		if r.Disposition != acc.NoAnswer || !r.Missed || r.Code != 408 {
			t.Errorf("call record: disposition %q missed %v code %d; want no_answer, missed, 408", r.Disposition, r.Missed, r.Code)
		}
	})
	t.Run("1xx after Timer C's CANCEL: still given up 64*T1 after it", func(t *testing.T) {
		t.Parallel()
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		bob.reply(t, in, 180, "Ringing", msgOpts{})
		alice.response(t, 180, "INVITE")
		bob.waitUpTo(t, timerC+replyTimeout, "CANCEL from Timer C", isRequest("CANCEL"))
		cancelled := time.Now()
		time.Sleep(time.Second)
		bob.reply(t, in, 183, "Session Progress", msgOpts{}) // ignores the CANCEL, still rings
		giveUp := 64 * s.cfg.Timers.T1.Std()
		res := alice.waitUpTo(t, giveUp+replyTimeout, "final response", isFinal("INVITE"))
		if d := time.Since(cancelled); res.code() != 408 || d > giveUp+time.Second {
			t.Errorf("caller got %q %v after the CANCEL, want 408 after 64*T1 = %v", res.start, d, giveUp)
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
	t.Run("no provisional, then a 200: ACKed and hung up by Parley", func(t *testing.T) {
		t.Parallel()
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		start := time.Now()
		call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		res := alice.waitUpTo(t, timerC+replyTimeout, "final response", isFinal("INVITE"))
		if res.code() != 408 {
			t.Fatalf("caller got %q, want 408", res.start)
		}
		call.ackFinal(t, res)
		retx := bob.retransmitted("INVITE")
		// Until after Timer B (64*T1 from the INVITE): the transaction that
		// Timer C ended sends no more retransmissions (§16.8).
		time.Sleep(time.Until(start.Add(64*s.cfg.Timers.T1.Std() + 200*time.Millisecond)))
		if n := bob.retransmitted("INVITE"); n != retx {
			t.Errorf("%d INVITE retransmissions after the 408: Timer C left the client transaction running", n-retx)
		}
		sent := bob.reply(t, in, 200, "OK", sdp(false))
		ack := bob.request(t, "ACK")
		if n, _ := ack.cseq(); n != 1 || ack.ruri() != bob.contact() || toTag(ack.raw) != toTag(sent.raw) {
			t.Errorf("ACK for the late 200: CSeq %d, Request-URI %q, To tag %q; want 1, %q, %q (§13.2.2.4)",
				n, ack.ruri(), toTag(ack.raw), bob.contact(), toTag(sent.raw))
		}
		bye := bob.request(t, "BYE")
		if n, _ := bye.cseq(); n != 2 || bye.ruri() != bob.contact() || toTag(bye.raw) != toTag(sent.raw) {
			t.Errorf("BYE for the late 200: CSeq %d, Request-URI %q, To tag %q", n, bye.ruri(), toTag(bye.raw))
		}
		bob.reply(t, bye, 200, "OK", msgOpts{})
		alice.none(t, quietPeriod, "the 200 after the 408", isResponse(200, "INVITE"))
	})
}

// cdrOf waits for the call record of callID in a JSON-lines CDR file.
func cdrOf(t *testing.T, file, callID string) acc.Record {
	t.Helper()
	var rec acc.Record
	found := waitFor(5*time.Second, func() bool {
		b, _ := os.ReadFile(file)
		for line := range strings.Lines(string(b)) {
			var r acc.Record
			if json.Unmarshal([]byte(line), &r) == nil && r.CallID == callID {
				rec = r
				return true
			}
		}
		return false
	})
	if !found {
		t.Fatalf("no call record for %s in %s", callID, file)
	}
	return rec
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
