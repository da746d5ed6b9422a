package transaction

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// Small timers for these tests: Timer B and F are 64*T1 = 1.92 s.
var timerTest = Timers{T1: 30 * time.Millisecond, T2: 120 * time.Millisecond, T4: 150 * time.Millisecond, D: 250 * time.Millisecond}

var (
	udpDest = transport.Dest{Proto: transport.UDP, Addr: client}
	tcpDest = transport.Dest{Proto: transport.TCP, Addr: client, Conn: 7}
)

// sendTimes returns when each message matching re was sent.
func (r *recorder) sendTimes(re string) []time.Time {
	rx := regexp.MustCompile(re)
	var out []time.Time
	for _, s := range r.all() {
		if rx.MatchString(s.data) {
			out = append(out, s.at)
		}
	}
	return out
}

// gaps returns the intervals between consecutive times.
func gaps(ts []time.Time) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

// near reports whether d is want within the scheduling slack of a loaded
// test machine (timers fire late, never early).
func near(d, want time.Duration) bool {
	return d >= want-5*time.Millisecond && d <= want+want/2+25*time.Millisecond
}

// tu records what a client transaction hands its owner.
type tu struct {
	mu    sync.Mutex
	codes []int
	err   error
	ended chan struct{}
}

func newTU() *tu { return &tu{ended: make(chan struct{})} }

func (u *tu) onResponse(ct *ClientTx, res *sip.Message) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if res == nil {
		u.err = ct.Err()
		close(u.ended)
		return
	}
	u.codes = append(u.codes, res.StatusCode())
}

func (u *tu) got() []int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]int(nil), u.codes...)
}

func startClient(t *testing.T, l *Layer, dst transport.Dest, method, branch string) (*ClientTx, *tu) {
	t.Helper()
	u := newTU()
	ct, err := l.Request(dst, []byte(request(method, branch)), u.onResponse)
	if err != nil {
		t.Fatal(err)
	}
	return ct, u
}

// TestTimerA: an INVITE over UDP is retransmitted after T1, then at
// intervals that keep doubling (Timer A is not capped by T2), until Timer B;
// over TCP it is sent once (§17.1.1.2).
func TestTimerA(t *testing.T) {
	rec := &recorder{}
	l := New(Config{Timers: timerTest}, rec, newCore(nil), nil)
	startClient(t, l, udpDest, "INVITE", "z9hG4bK-a-udp")
	startClient(t, l, tcpDest, "INVITE", "z9hG4bK-a-tcp")
	time.Sleep(31 * timerTest.T1) // sends at 0, 1, 3, 7, 15 T1; the next at 31 T1
	g := gaps(rec.sendTimes(`^INVITE [^\n]*\r\nVia: [^\n]*branch=z9hG4bK-a-udp`))
	if len(g) < 4 {
		t.Fatalf("INVITE over UDP retransmitted %d times in 31*T1, want 4 (gaps %v)", len(g), g)
	}
	want := timerTest.T1
	for i, d := range g[:4] {
		if !near(d, want) {
			t.Errorf("retransmission %d after %v, want %v (gaps %v)", i+1, d, want, g)
		}
		want *= 2 // 8*T1 = 240 ms > T2: Timer A keeps doubling past T2
	}
	if n := len(rec.sendTimes(`branch=z9hG4bK-a-tcp`)); n != 1 {
		t.Errorf("INVITE over TCP sent %d times, want once (no Timer A on a reliable transport)", n)
	}
}

// TestTimerE: a non-INVITE request over UDP is retransmitted after T1, then
// at doubling intervals capped at T2 (§17.1.2.2); over TCP it is sent once.
func TestTimerE(t *testing.T) {
	rec := &recorder{}
	l := New(Config{Timers: timerTest}, rec, newCore(nil), nil)
	startClient(t, l, udpDest, "OPTIONS", "z9hG4bK-e-udp")
	startClient(t, l, tcpDest, "OPTIONS", "z9hG4bK-e-tcp")
	time.Sleep(7*timerTest.T1 + 3*timerTest.T2) // T1, 2T1, 4T1 = T2, then T2, T2
	g := gaps(rec.sendTimes(`^OPTIONS [^\n]*\r\nVia: [^\n]*branch=z9hG4bK-e-udp`))
	if len(g) < 5 {
		t.Fatalf("OPTIONS over UDP retransmitted %d times, want at least 5 (gaps %v)", len(g), g)
	}
	want := []time.Duration{timerTest.T1, 2 * timerTest.T1, timerTest.T2, timerTest.T2, timerTest.T2}
	for i, d := range g[:5] {
		if !near(d, want[i]) {
			t.Errorf("retransmission %d after %v, want %v (gaps %v)", i+1, d, want[i], g)
		}
	}
	if n := len(rec.sendTimes(`branch=z9hG4bK-e-tcp`)); n != 1 {
		t.Errorf("OPTIONS over TCP sent %d times, want once (no Timer E on a reliable transport)", n)
	}
}

// TestTimerB: an INVITE client transaction that gets no response ends at
// 64*T1 and tells its owner it timed out, which it answers as a 408
// (§17.1.1.2, §8.1.3.1); over TCP too, where nothing is retransmitted.
func TestTimerB(t *testing.T) {
	for _, dst := range []transport.Dest{udpDest, tcpDest} {
		t.Run(dst.Proto.String(), func(t *testing.T) {
			timers := Timers{T1: 15 * time.Millisecond}
			l := New(Config{Timers: timers}, &recorder{}, newCore(nil), nil)
			start := time.Now()
			_, u := startClient(t, l, dst, "INVITE", "z9hG4bK-b")
			select {
			case <-u.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("Timer B did not fire")
			}
			if d, b := time.Since(start), 64*timers.T1; d < b || d > b+500*time.Millisecond {
				t.Errorf("timed out after %v, want Timer B = %v", d, b)
			}
			if u.err != ErrTimeout || len(u.got()) != 0 {
				t.Errorf("owner got %v and responses %v, want ErrTimeout only", u.err, u.got())
			}
			if s := l.Stats(); s.Timeouts != 1 || s.Live != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestTimerD: after a non-2xx final response, an INVITE client transaction
// over UDP stays Completed for Timer D, answering each retransmission of the
// response with the ACK again and passing none of them up; over TCP Timer D
// is 0 and the transaction ends at once (§17.1.1.2).
func TestTimerD(t *testing.T) {
	d := timerTest.D
	if got := (Timers{}).withDefaults(); got.timerD(false) != 32*time.Second || got.timerD(true) != 0 {
		t.Errorf("default Timer D = %v (UDP), %v (TCP); want 32s, 0", got.timerD(false), got.timerD(true))
	}
	if got := (Timers{T1: time.Second}).withDefaults().timerD(false); got != 64*time.Second {
		t.Errorf("Timer D with T1 = 1s is %v, want 64*T1", got)
	}
	busy := response(486, "Busy Here", "z9hG4bK-d", "INVITE", "t1")
	acks := `^ACK sip:bob@example.test SIP/2.0\r\nVia: [^\n]*branch=z9hG4bK-d[;\r]`

	t.Run("UDP", func(t *testing.T) {
		rec, c := &recorder{}, newCore(nil)
		l := New(Config{Timers: timerTest}, rec, c, nil)
		_, u := startClient(t, l, udpDest, "INVITE", "z9hG4bK-d")
		deliver(l, busy)
		completed := time.Now()
		time.Sleep(d / 2)
		deliver(l, busy) // retransmitted: absorbed, ACKed again
		if n := len(rec.sendTimes(acks)); n != 2 {
			t.Errorf("ACK sent %d times, want 2", n)
		}
		waitFor(t, "Timer D", func() bool { return l.Count() == 0 })
		if since := time.Since(completed); since < d {
			t.Errorf("Completed lasted %v, want Timer D = %v", since, d)
		}
		deliver(l, busy) // after Timer D: no transaction any more
		if got := u.got(); len(got) != 1 || got[0] != 486 || c.strays != 1 {
			t.Errorf("owner got %v, strays %d; want [486] and the late one stray", got, c.strays)
		}
	})
	t.Run("TCP", func(t *testing.T) {
		rec, c := &recorder{}, newCore(nil)
		l := New(Config{Timers: timerTest}, rec, c, nil)
		_, u := startClient(t, l, tcpDest, "INVITE", "z9hG4bK-d")
		deliver(l, busy)
		waitFor(t, "the transaction to end", func() bool { return l.Count() == 0 })
		deliver(l, busy)
		if got := u.got(); len(got) != 1 || c.strays != 1 || len(rec.sendTimes(acks)) != 1 {
			t.Errorf("owner got %v, strays %d, ACKs %d; want [486], 1, 1", got, c.strays, len(rec.sendTimes(acks)))
		}
	})
}

// TestTimerK: after a final response, a non-INVITE client transaction over
// UDP stays Completed for T4 to absorb retransmissions of it; over TCP
// Timer K is 0 (§17.1.2.2).
func TestTimerK(t *testing.T) {
	ok := response(200, "OK", "z9hG4bK-k", "OPTIONS", "t1")
	for _, tt := range []struct {
		dst  transport.Dest
		want time.Duration
	}{{udpDest, timerTest.T4}, {tcpDest, 0}} {
		t.Run(tt.dst.Proto.String(), func(t *testing.T) {
			c := newCore(nil)
			l := New(Config{Timers: timerTest}, &recorder{}, c, nil)
			_, u := startClient(t, l, tt.dst, "OPTIONS", "z9hG4bK-k")
			deliver(l, ok)
			completed := time.Now()
			if tt.want > 0 {
				time.Sleep(tt.want / 2)
				deliver(l, ok) // absorbed
				if c.strays != 0 || len(u.got()) != 1 {
					t.Errorf("a retransmitted 200 within T4: owner got %v, strays %d", u.got(), c.strays)
				}
			}
			waitFor(t, "Timer K", func() bool { return l.Count() == 0 })
			if since := time.Since(completed); since < tt.want || since > tt.want+200*time.Millisecond {
				t.Errorf("Completed lasted %v, want Timer K = %v", since, tt.want)
			}
			deliver(l, ok)
			if got := u.got(); len(got) != 1 || got[0] != 200 || c.strays != 1 {
				t.Errorf("owner got %v, strays %d; want [200] and the late one stray", got, c.strays)
			}
		})
	}
}
