// Package phones is the acceptance test of "real phones call each other
// through Parley": two baresip 1.0.0 instances and one linphonec 5.1 (Debian
// 12 packages baresip, linphone-cli) register with digest at a freshly built
// `parley serve` on 127.0.0.1 (UDP, TCP and TLS, a fresh SQLite database,
// users added with `parley user add`, default configuration) and call each
// other through it. One server serves the whole run; every phone has its own
// config directory (linphonec its own HOME) and is killed by PID at the end.
//
// Scenarios over UDP: 1 REGISTER with digest (alice, bob on baresip; carol on
// linphonec), 2 call with auto-answer and RTP directly between the phones
// (baresip's audio_debug), 3 hang-up by the caller, 4 by the callee, 5 busy
// (486), 6 decline (603, from linphonec: baresip 1.0.0's hangup always sends
// 486), 7 CANCEL → 487, 8 unknown user → 404, 9 known user without binding →
// 404, 10 a call forked to two registrations of bob, 11 blind transfer
// (REFER), 12 re-INVITE (hold, resume, reinvite); 1-4 again over TCP and
// TLS, plus a few extras (linphonec as caller, a call that changes transport).
// SIP exchanges are checked in baresip's SIP trace (-s) and liblinphone's log.
//
// Every scenario prints one line, `PASS <name>`, `FAIL <name>: reason` or
// `SKIP <name>: reason`, and the run ends with `N passed, M failed`.
//
// Without baresip the test is skipped, unless the environment variable CI is
// set: then it fails. The same holds for linphonec's scenarios; they are also
// skipped where no private mount namespace can be made (`unshare -m`, then
// `unshare -r -m`), which linphonec needs so that a DNS lookup of
// example.test never leaves the machine. PHONES_WITHOUT_LINPHONEC=1 runs the
// baresip-only variants; PHONES_LOGDIR=DIR keeps every process's output (SIP
// traces) there. How the clients are driven headless is in
// /work/shared/notes/real-clients.md.
package phones

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Timeouts of single waits.
const (
	evWait    = 10 * time.Second // a call or registration event
	shortWait = 5 * time.Second  // an event that follows at once
	msgWait   = 3 * time.Second  // a message in the trace after its event
)

var users = map[string]string{
	"alice": "alice-Pw-4711",
	"bob":   "bob-Pw-4712",
	"carol": "carol-Pw-4713",
	"dave":  "dave-Pw-4714", // known user, never registered
}

// skipError marks a scenario that could not run.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

// failure is a scenario failure: msg goes on the FAIL line, detail (logs,
// traces) only into t.Errorf.
type failure struct{ msg, detail string }

func (e failure) Error() string { return e.msg }

func failf(format string, args ...any) error { return failure{msg: fmt.Sprintf(format, args...)} }

// withDetail adds detail to err.
func withDetail(err error, detail string) error {
	var f failure
	if errors.As(err, &f) {
		f.detail += detail
		return f
	}
	return failure{msg: err.Error(), detail: detail}
}

// report runs the scenarios and counts their results.
type report struct {
	t                *testing.T
	pass, fail, skip int
	afterEach        func()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
}

// run runs one scenario and prints its line.
func (r *report) run(name string, f func() error) bool {
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = failf("panic: %v", p)
			}
		}()
		return f()
	}()
	if r.afterEach != nil {
		r.afterEach()
	}
	var skip skipError
	var fail failure
	switch {
	case err == nil:
		r.pass++
		fmt.Printf("PASS %s\n", name)
	case errors.As(err, &skip):
		r.skip++
		fmt.Printf("SKIP %s: %s\n", name, oneLine(skip.reason))
	default:
		r.fail++
		fmt.Printf("FAIL %s: %s\n", name, oneLine(err.Error()))
		detail := ""
		if errors.As(err, &fail) {
			detail = fail.detail
		}
		r.t.Errorf("FAIL %s (after %.1fs): %s%s", name, time.Since(start).Seconds(), err, detail)
	}
	return err == nil
}

func (r *report) summary() {
	fmt.Printf("%d passed, %d failed", r.pass, r.fail)
	if r.skip > 0 {
		fmt.Printf(", %d skipped", r.skip)
	}
	fmt.Println()
}

// lookClient finds a client binary; a missing one skips (or, with CI set,
// fails) what needs it.
func lookClient(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p, nil
}

// bench is everything the scenarios share.
type bench struct {
	t        *testing.T
	srv      *parley
	pp       *portPlan
	baresip  string
	certBoth string
	// linphonec: binary, DNS jail, or why it cannot run
	linphonec  string
	jail       []string
	noLinphone error
	carol      *linphone
}

func TestRealPhonesCallThroughParley(t *testing.T) {
	ci := os.Getenv("CI") != ""
	baresipBin, err := lookClient("baresip", "baresip")
	if err != nil {
		if ci {
			t.Fatalf("CI is set: %v", err)
		}
		t.Skip(err)
	}
	b := &bench{t: t, baresip: baresipBin, pp: newPortPlan()}
	dir := t.TempDir()
	bin, err := buildParley(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, both, err := writeCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	b.certBoth = both
	// Parley's defaults: baresip 1.0.0 gives up on a 401/407 as soon as one
	// challenge names an algorithm other than MD5, which the default
	// auth.md5_only_agents: [baresip] takes care of.
	b.srv, err = startParley(t, bin, dir, "", cert, key, users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("parley log:\n%s", tail(b.srv.p.out.String(), 20000))
		}
	})

	// linphonec: a missing binary skips its scenarios (fails them under CI);
	// a machine where no private mount namespace can be made (so linphonec
	// could send DNS queries for example.test off the machine) skips them.
	// PHONES_WITHOUT_LINPHONEC=1 runs the baresip-only fallbacks.
	b.linphonec, err = lookClient("linphonec", "linphone-cli")
	switch {
	case os.Getenv("PHONES_WITHOUT_LINPHONEC") != "":
		b.noLinphone = skipError{"PHONES_WITHOUT_LINPHONEC is set"}
	case err != nil && ci:
		b.noLinphone = failure{msg: "CI is set: " + err.Error()}
	case err != nil:
		b.noLinphone = skipError{err.Error()}
	default:
		resolv := dir + "/resolv.conf"
		if err = os.WriteFile(resolv, []byte("nameserver 127.0.0.1\n"), 0o644); err == nil {
			b.jail, err = dnsJail(resolv)
		}
		if err == nil && !hasDefaultRoute() {
			err = errors.New("no default route: liblinphone 5.1 (auto_net_state_mon) then thinks the network is down and never registers")
		}
		if err != nil {
			b.noLinphone = skipError{err.Error()}
		}
	}

	r := &report{t: t}
	start := time.Now()
	defer func() {
		r.summary()
		t.Logf("real phones: %.0f s", time.Since(start).Seconds())
	}()

	b.udpPhase(r)
	b.transportPhase(r, "tcp")
	b.transportPhase(r, "tls")
}

// pair is alice and bob on baresip over one transport.
type pair struct {
	tr     string
	alice  *baresip
	bob    *baresip
	regOK  bool
	callID string // the call of scenario 2, if still up
}

// startPair starts two baresip instances (not yet registered).
func (b *bench) startPair(tr string) (*pair, error) {
	a, err := startBaresip(b.t, b.baresip, "alice/"+tr, b.certBoth, b.pp)
	if err != nil {
		return nil, err
	}
	bo, err := startBaresip(b.t, b.baresip, "bob/"+tr, b.certBoth, b.pp)
	if err != nil {
		return nil, err
	}
	return &pair{tr: tr, alice: a, bob: bo}, nil
}

func (p *pair) quit() {
	if p.alice != nil {
		p.alice.quit()
	}
	if p.bob != nil {
		p.bob.quit()
	}
}

// phoneLogs is the tail of each phone's output, for failure details.
func phoneLogs(ps ...*baresip) string {
	var sb strings.Builder
	for _, p := range ps {
		if p == nil {
			continue
		}
		fmt.Fprintf(&sb, "\n--- %s output (tail) ---\n%s", p.name, tail(p.p.out.String(), 6000))
	}
	return sb.String()
}

// basics runs scenarios 1-4 over p.tr; between 1 and 2 it runs more (if
// not nil).
func (b *bench) basics(r *report, p *pair, more func()) {
	tr := p.tr
	r.run(tr+"/1-register-digest-baresip(alice,bob)", func() error { return b.register(p) })
	if more != nil {
		more()
	}
	r.run(tr+"/2-call-autoanswer-direct-rtp", func() error { return b.callRTP(p) })
	r.run(tr+"/3-hangup-from-caller", func() error { return b.hangup(p, true) })
	r.run(tr+"/4-hangup-from-callee", func() error { return b.hangup(p, false) })
}

func (b *bench) udpPhase(r *report) {
	p, err := b.startPair("udp")
	if err != nil {
		r.run("udp/1-register-digest-baresip(alice,bob)", func() error { return err })
		return
	}
	defer p.quit()
	var extra []*baresip // phones started by scenarios, cleaned between them
	r.afterEach = func() {
		if p.callID != "" { // scenario 2's call is for scenario 3
			return
		}
		for _, ph := range append([]*baresip{p.alice, p.bob}, extra...) {
			ph.hangupAll()
		}
		if b.carol != nil && b.carol.p.running() {
			b.carol.send("terminate all")
		}
	}
	defer func() { r.afterEach = nil }()

	b.basics(r, p, func() { r.run("udp/1-register-digest-linphonec(carol)", b.registerCarol) })
	r.run("udp/5-busy-486", func() error { return b.busy(p) })
	r.run("udp/6-decline-603", func() error { return b.decline(p) })
	r.run("udp/extra-linphonec-calls-baresip(carol → alice)", func() error { return b.linphoneCalls(p) })
	r.run("udp/7-cancel-487", func() error { return b.cancel(p) })
	r.run("udp/8-unknown-user-404", func() error { return b.notFound(p, "nobody") })
	r.run("udp/9-known-user-unregistered-404", func() error { return b.notFound(p, "dave") })
	r.run("udp/10-fork-two-registrations", func() error { return b.fork(p, &extra) })
	r.run("udp/11-blind-transfer-refer", func() error { return b.transfer(p, &extra) })
	r.run("udp/12-reinvite-hold-resume", func() error { return b.reinvite(p) })
	if b.carol != nil {
		b.carol.quit()
	}
}

func (b *bench) transportPhase(r *report, tr string) {
	p, err := b.startPair(tr)
	if err != nil {
		r.run(tr+"/1-register-digest-baresip(alice,bob)", func() error { return err })
		return
	}
	defer p.quit()
	r.afterEach = func() {
		if p.callID != "" { // scenario 2's call is for scenario 3
			return
		}
		p.alice.hangupAll()
		p.bob.hangupAll()
	}
	defer func() { r.afterEach = nil }()
	b.basics(r, p, nil)
	r.run(tr+"/extra-cross-transport-call(carol udp → bob "+tr+")", func() error { return b.crossTransport(p) })
}

// crossTransport: carol on UDP calls bob on p.tr, so Parley changes
// transport inside the call (two Record-Route entries, RFC 5658); RTP flows
// directly, then the callee hangs up and the caller re-INVITEs first.
func (b *bench) crossTransport(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	c, err := startBaresip(b.t, b.baresip, "carol/udp", b.certBoth, b.pp)
	if err != nil {
		return err
	}
	defer c.quit()
	if err := c.register("carol", users["carol"], "udp", b.srv.addr["udp"], "auto"); err != nil {
		return err
	}
	tc := c.traceMark()
	id, err := dial(c, p.bob, "bob")
	if err != nil {
		return withDetail(err, phoneLogs(c, p.bob))
	}
	if err := b.checkRTP(c, p.bob); err != nil {
		return err
	}
	ok, found := c.findMsg(tc, msgWait, func(m sipMsg) bool { return m.code() == 200 && m.cseqMethod() == "INVITE" && m.callID() == id })
	if !found {
		return failf("carol got no 200 for the INVITE: %s", c.traceSummary(b.srv, tc))
	}
	if rr := ok.hdr["record-route"]; len(rr) == 0 {
		return withDetail(failf("the 200 carol got has no Record-Route"), ok.full())
	}
	tm := c.traceMark()
	if _, err := c.cmd("reinvite", ""); err != nil {
		return err
	}
	if m, ok := c.findMsg(tm, shortWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.cseqMethod() == "INVITE" && m.callID() == id
	}); !ok || m.code() != 200 {
		return failf("carol's re-INVITE across transports: %s", c.traceSummary(b.srv, tm))
	}
	mb, mc := p.bob.mark(), c.mark()
	tc = c.traceMark()
	if _, err := p.bob.cmd("hangup", ""); err != nil {
		return err
	}
	if _, err := c.waitEvent(mc, shortWait, "CALL_CLOSED", func(e event) bool { return e.id() == id }); err != nil {
		return withDetail(err, "\ncarol: "+c.traceSummary(b.srv, tc))
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	return nil
}

// needReg fails a scenario whose phones did not register.
func needReg(p *pair) error {
	if !p.regOK {
		return failf("alice and bob are not registered over %s (scenario 1 failed)", p.tr)
	}
	return nil
}

// ---- scenario 1: REGISTER with digest ----

func (b *bench) register(p *pair) error {
	for _, ph := range []struct {
		c    *baresip
		user string
	}{{p.alice, "alice"}, {p.bob, "bob"}} {
		tm := ph.c.traceMark()
		if err := ph.c.register(ph.user, users[ph.user], p.tr, b.srv.addr[p.tr], "auto"); err != nil {
			return withDetail(err, phoneLogs(ph.c))
		}
		// 401 with an MD5 challenge, REGISTER with Authorization, 200; all over tr.
		msgs := ph.c.trace()[tm:]
		var got401, gotAuth, got200 bool
		for _, m := range msgs {
			if m.method() != "REGISTER" {
				continue
			}
			if !strings.EqualFold(m.proto, p.tr) {
				return failf("%s: REGISTER traffic went over %s, want %s: %s", ph.c.name, m.proto, p.tr, m)
			}
			switch {
			case m.code() == 401 && !ph.c.sent(b.srv, m):
				got401 = strings.Contains(m.get("www-authenticate"), "Digest")
			case m.code() == 0 && ph.c.sent(b.srv, m) && strings.Contains(m.get("authorization"), `username="`+ph.user+`"`):
				gotAuth = true
			case m.code() == 200 && gotAuth:
				got200 = true
			}
		}
		if !got401 || !gotAuth || !got200 {
			return withDetail(failf("%s: want 401 (Digest) → REGISTER with Authorization → 200; got 401=%v auth=%v 200=%v: %s",
				ph.c.name, got401, gotAuth, got200, ph.c.traceSummary(b.srv, tm)), phoneLogs(ph.c))
		}
	}
	p.regOK = true
	return nil
}

// registerCarol starts linphonec as carol (auto-answer) and waits until it
// says it is registered; the 401 → Authorization exchange must be in its log.
func (b *bench) registerCarol() error {
	if b.noLinphone != nil {
		return b.noLinphone
	}
	l, err := startLinphone(b.t, b.linphonec, b.jail, "carol", users["carol"], b.srv.addr["udp"], b.pp)
	if err != nil {
		return err
	}
	b.carol = l
	if err := l.waitRegistered(15 * time.Second); err != nil {
		return withDetail(failf("linphonec carol: %v", firstLine(err)),
			"\n"+err.Error()+"\n--- liblinphone log (tail) ---\n"+tail(l.debug(), 6000))
	}
	dbg := l.debug()
	if !strings.Contains(dbg, "SIP/2.0 401") || !regexp.MustCompile(`(?i)Authorization:\s*Digest[^\n]*username="carol"`).MatchString(dbg) {
		return withDetail(failf("linphonec registered, but its log shows no 401 → REGISTER with Authorization"), tail(dbg, 6000))
	}
	return nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// ---- scenario 2: call with auto-answer, RTP directly between the phones ----

// dial makes from call to to's user and waits until both have the call
// established; it returns the Call-ID.
func dial(from, to *baresip, user string) (string, error) {
	mf, mt := from.mark(), to.mark()
	if _, err := from.cmd("dial", "sip:"+user+"@"+domain); err != nil {
		return "", err
	}
	ev, err := from.waitEvent(mf, evWait, "CALL_ESTABLISHED", nil)
	if err != nil {
		if c, _ := from.waitEvent(mf, 0, "CALL_CLOSED", nil); c != nil {
			return "", failf("%s: call to %s closed: %q", from.name, user, c.param())
		}
		return "", err
	}
	id := ev.id()
	if _, err := to.waitEvent(mt, shortWait, "CALL_ESTABLISHED", func(e event) bool { return e.id() == id }); err != nil {
		return "", err
	}
	return id, nil
}

// checkRTP checks that each phone receives RTP from the other phone's RTP
// socket, which is the address in the other's SDP, and from nobody else
// (in particular not from Parley).
func (b *bench) checkRTP(x, y *baresip) error {
	time.Sleep(1200 * time.Millisecond) // some 60 packets each way
	sx, err := x.audioDebug()
	if err != nil {
		return err
	}
	sy, err := y.audioDebug()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		me, peer     *baresip
		mine, theirs audioStats
	}{{x, y, sx, sy}, {y, x, sy, sx}} {
		want := fmt.Sprintf("127.0.0.1:%d", c.theirs.localPort)
		if c.theirs.localPort < c.peer.rtpLo || c.theirs.localPort > c.peer.rtpHi {
			return failf("%s's RTP port %d is outside its rtp_ports %d-%d", c.peer.name, c.theirs.localPort, c.peer.rtpLo, c.peer.rtpHi)
		}
		if c.mine.remote != want {
			return withDetail(failf("%s sends RTP to %s, but %s's RTP socket is %s", c.me.name, c.mine.remote, c.peer.name, want), c.mine.raw)
		}
		if b.srv.isParley(c.mine.remote) {
			return failf("%s's RTP peer %s is Parley", c.me.name, c.mine.remote)
		}
		if c.mine.rcvd[want] == 0 {
			return withDetail(failf("%s received no RTP from %s (%s); RTCP members %v", c.me.name, want, c.peer.name, c.mine.rcvd), c.mine.raw)
		}
		for addr, n := range c.mine.rcvd {
			if n > 0 && addr != want {
				return withDetail(failf("%s received %d RTP packets from %s, which is not %s's RTP socket %s", c.me.name, n, addr, c.peer.name, want), c.mine.raw)
			}
		}
		if c.mine.tx == 0 {
			return withDetail(failf("%s sent no RTP", c.me.name), c.mine.raw)
		}
	}
	return nil
}

func (b *bench) callRTP(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	ma, mb := p.alice.mark(), p.bob.mark()
	tb := p.bob.traceMark()
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return withDetail(err, phoneLogs(p.alice, p.bob))
	}
	for _, c := range []struct {
		ph *baresip
		m  int
	}{{p.alice, ma}, {p.bob, mb}} {
		if _, err := c.ph.waitEvent(c.m, shortWait, "CALL_RTPESTAB", func(e event) bool { return e.id() == id }); err != nil {
			return err
		}
	}
	// The INVITE reached bob over the same transport, through Parley, with
	// alice's SDP untouched.
	inv, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool {
		return m.start != "" && m.code() == 0 && m.method() == "INVITE" && m.callID() == id
	})
	if !ok {
		return failf("bob's trace has no INVITE for call %s: %s", id, p.bob.traceSummary(b.srv, tb))
	}
	if !strings.EqualFold(inv.proto, p.tr) || p.tr == "udp" && !b.srv.isParley(inv.src) {
		return failf("bob got the INVITE over %s from %s, want %s from Parley", inv.proto, inv.src, p.tr)
	}
	if !strings.Contains(inv.body, "c=IN IP4 127.0.0.1") {
		return withDetail(failf("the INVITE bob got has no c=IN IP4 127.0.0.1"), inv.full())
	}
	if err := b.checkRTP(p.alice, p.bob); err != nil {
		return err
	}
	p.callID = id
	return nil
}

// ---- scenarios 3 and 4: hang up ----

func (b *bench) hangup(p *pair, fromCaller bool) error {
	if err := needReg(p); err != nil {
		return err
	}
	id := p.callID
	p.callID = ""
	if id != "" {
		if n, err := p.alice.calls(); err != nil || n != 1 {
			id = "" // scenario 2's call is gone: make a new one
			p.alice.hangupAll()
		}
	}
	if id == "" || !fromCaller {
		var err error
		if id, err = dial(p.alice, p.bob, "bob"); err != nil {
			return withDetail(err, phoneLogs(p.alice, p.bob))
		}
	}
	by, other := p.alice, p.bob
	if !fromCaller {
		by, other = p.bob, p.alice
	}
	mb, mo := by.mark(), other.mark()
	tb, to := by.traceMark(), other.traceMark()
	if _, err := by.cmd("hangup", ""); err != nil {
		return err
	}
	isCall := func(e event) bool { return e.id() == id }
	if _, err := by.waitEvent(mb, shortWait, "CALL_CLOSED", isCall); err != nil {
		return err
	}
	if _, err := other.waitEvent(mo, shortWait, "CALL_CLOSED", isCall); err != nil {
		return withDetail(err, "\n"+other.name+" trace: "+other.traceSummary(b.srv, to))
	}
	if _, ok := other.findMsg(to, msgWait, func(m sipMsg) bool {
		return m.code() == 0 && m.method() == "BYE" && m.callID() == id && !other.sent(b.srv, m)
	}); !ok {
		return failf("%s received no BYE: %s", other.name, other.traceSummary(b.srv, to))
	}
	if _, ok := by.findMsg(tb, msgWait, func(m sipMsg) bool {
		return m.code() == 200 && m.cseqMethod() == "BYE" && m.callID() == id && !by.sent(b.srv, m)
	}); !ok {
		return failf("%s's BYE got no 200: %s", by.name, by.traceSummary(b.srv, tb))
	}
	for _, ph := range []*baresip{by, other} {
		if n, err := ph.calls(); err != nil || n != 0 {
			return failf("%s still has %d calls after the BYE (%v)", ph.name, n, err)
		}
	}
	return nil
}

// finalResponse waits for the final response to ph's INVITE after tm (401
// and 407 challenges excluded).
func (b *bench) finalResponse(ph *baresip, tm int, id string) (sipMsg, error) {
	m, ok := ph.findMsg(tm, evWait, func(m sipMsg) bool {
		return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" &&
			(id == "" || m.callID() == id) && !ph.sent(b.srv, m)
	})
	if !ok {
		return m, failf("%s got no final response to its INVITE: %s", ph.name, ph.traceSummary(b.srv, tm))
	}
	return m, nil
}

// ---- scenario 5: busy ----

func (b *bench) busy(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb := p.alice.mark(), p.bob.mark()
	ta, tb := p.alice.traceMark(), p.bob.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return err
	}
	id := in.id()
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return err
	}
	if _, err := p.bob.cmd("hangup", ""); err != nil { // baresip 1.0.0: 486
		return err
	}
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, id)
	if err != nil {
		return err
	}
	if final.code() != 486 {
		return withDetail(failf("bob answered 486, alice got %q", final.start), "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	// Parley's client transaction ACKs bob's 486 (§17.1.1.3) and alice ACKs Parley's.
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("bob's 486 was never ACKed: %s", p.bob.traceSummary(b.srv, tb))
	}
	return nil
}

// ---- scenario 6: decline ----

func (b *bench) decline(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	// baresip 1.0.0's hangup takes no status code (always 486); `hangup
	// scode=603` exists only in later releases. linphonec's `terminate` on an
	// incoming call sends 603 Decline.
	if err := b.needCarol("baresip 1.0.0 cannot send 603 and "); err != nil {
		return err
	}
	l := b.carol
	l.send("autoanswer disable")
	defer l.send("autoanswer enable")
	time.Sleep(200 * time.Millisecond)
	ma, ml := p.alice.mark(), l.mark()
	ta := p.alice.traceMark()
	if _, err := p.alice.cmd("dial", "sip:carol@"+domain); err != nil {
		return err
	}
	if _, err := l.waitOut(ml, evWait, regexp.MustCompile(`Receiving new incoming call from [^\n]*alice`)); err != nil {
		return withDetail(failf("linphonec carol did not see alice's call"), "\n"+err.Error()+"\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	l.send("terminate")
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, "")
	if err != nil {
		return err
	}
	if final.code() != 603 {
		return withDetail(failf("carol declined (603), alice got %q", final.start), "\n"+tail(l.debug(), 4000))
	}
	return nil
}

// needCarol fails or skips (with why+reason) a scenario that needs linphonec.
func (b *bench) needCarol(why string) error {
	if b.carol != nil && b.carol.p.running() {
		return nil
	}
	if b.noLinphone != nil {
		var s skipError
		if errors.As(b.noLinphone, &s) {
			return skipError{why + s.reason}
		}
		return b.noLinphone
	}
	return failf("linphonec carol is not running (scenario udp/1 for carol failed)")
}

// linphoneCalls: carol on linphonec calls alice (auto-answer), RTP flows
// directly, carol hangs up.
func (b *bench) linphoneCalls(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if err := b.needCarol(""); err != nil {
		return err
	}
	l := b.carol
	ma, ml := p.alice.mark(), l.mark()
	ta := p.alice.traceMark()
	l.send("call sip:alice@" + domain)
	ev, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", nil)
	if err != nil {
		return withDetail(err, "\nlinphonec:\n"+tail(l.p.out.String(), 1500)+"\n"+tail(l.debug(), 5000))
	}
	id := ev.id()
	if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*alice[^\n]* connected`)); err != nil {
		return err
	}
	time.Sleep(1200 * time.Millisecond)
	st, err := p.alice.audioDebug()
	if err != nil {
		return err
	}
	want := fmt.Sprintf("127.0.0.1:%d", l.rtpPort)
	if st.remote != want || st.rcvd[want] == 0 || st.tx == 0 {
		return withDetail(failf("alice's RTP peer is %s (rcvd %v, tx %d), want linphonec's %s both ways", st.remote, st.rcvd, st.tx, want), st.raw)
	}
	ma = p.alice.mark()
	l.send("terminate")
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", func(e event) bool { return e.id() == id }); err != nil {
		return err
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "BYE" && m.code() == 0 && !p.alice.sent(b.srv, m) }); !ok {
		return failf("alice received no BYE from carol: %s", p.alice.traceSummary(b.srv, ta))
	}
	return nil
}

// ---- scenario 7: CANCEL ----

func (b *bench) cancel(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb := p.alice.mark(), p.bob.mark()
	ta, tb := p.alice.traceMark(), p.bob.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return err
	}
	id := in.id()
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_RINGING", nil); err != nil {
		return err
	}
	if _, err := p.alice.cmd("hangup", ""); err != nil { // ringing outgoing call: CANCEL
		return err
	}
	if _, err := p.alice.waitEvent(ma, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return withDetail(err, "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && p.alice.sent(b.srv, m) }); !ok {
		return failf("alice sent no CANCEL: %s", p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.cseqMethod() == "CANCEL" && m.code() == 200 }); !ok {
		return failf("alice's CANCEL got no 200: %s", p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("bob received no CANCEL: %s", p.bob.traceSummary(b.srv, tb))
	}
	final, err := b.finalResponse(p.alice, ta, id)
	if err != nil {
		return err
	}
	if final.code() != 487 {
		return failf("after CANCEL alice's INVITE got %q, want 487: %s", final.start, p.alice.traceSummary(b.srv, ta))
	}
	if _, ok := p.alice.findMsg(ta, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && p.alice.sent(b.srv, m) }); !ok {
		return failf("alice did not ACK the 487: %s", p.alice.traceSummary(b.srv, ta))
	}
	return nil
}

// ---- scenarios 8 and 9: 404 ----

func (b *bench) notFound(p *pair, user string) error {
	if err := needReg(p); err != nil {
		return err
	}
	ma := p.alice.mark()
	ta := p.alice.traceMark()
	if _, err := p.alice.cmd("dial", "sip:"+user+"@"+domain); err != nil {
		return err
	}
	if _, err := p.alice.waitEvent(ma, evWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	final, err := b.finalResponse(p.alice, ta, "")
	if err != nil {
		return err
	}
	if final.code() != 404 {
		return failf("INVITE sip:%s@%s got %q, want 404: %s", user, domain, final.start, p.alice.traceSummary(b.srv, ta))
	}
	return nil
}

// ---- scenario 10: forking ----

func (b *bench) fork(p *pair, extra *[]*baresip) error {
	if err := needReg(p); err != nil {
		return err
	}
	b2, err := startBaresip(b.t, b.baresip, "bob2/udp", b.certBoth, b.pp)
	if err != nil {
		return err
	}
	*extra = append(*extra, b2)
	defer b2.quit() // un-REGISTERs the second binding
	if err := b2.register("bob", users["bob"], "udp", b.srv.addr["udp"], "manual"); err != nil {
		return err
	}
	if _, err := p.bob.cmd("answermode", "manual"); err != nil {
		return err
	}
	defer p.bob.cmd("answermode", "auto")
	ma, mb, m2 := p.alice.mark(), p.bob.mark(), b2.mark()
	ta, tb := p.alice.traceMark(), p.bob.traceMark()
	if _, err := p.alice.cmd("dial", "sip:bob@"+domain); err != nil {
		return err
	}
	in1, err := p.bob.waitEvent(mb, evWait, "CALL_INCOMING", nil)
	if err != nil {
		return withDetail(failf("the first registration did not ring: %v", err), "\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	in2, err := b2.waitEvent(m2, shortWait, "CALL_INCOMING", nil)
	if err != nil {
		return withDetail(failf("the second registration did not ring: %v", err), "\nalice: "+p.alice.traceSummary(b.srv, ta))
	}
	id := in1.id()
	if in2.id() != id {
		return failf("the two branches have different Call-IDs %s and %s", id, in2.id())
	}
	if _, err := b2.cmd("accept", ""); err != nil {
		return err
	}
	if _, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", nil); err != nil {
		return err
	}
	if _, err := b2.waitEvent(m2, shortWait, "CALL_ESTABLISHED", nil); err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", nil); err != nil {
		return withDetail(failf("the ringing branch was not cancelled: %v", err), "\nbob: "+p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.method() == "CANCEL" && m.code() == 0 && m.callID() == id }); !ok {
		return failf("the other branch got no CANCEL: %s", p.bob.traceSummary(b.srv, tb))
	}
	if _, ok := p.bob.findMsg(tb, msgWait, func(m sipMsg) bool { return m.code() == 487 && p.bob.sent(b.srv, m) }); !ok {
		return failf("the cancelled branch did not answer 487: %s", p.bob.traceSummary(b.srv, tb))
	}
	// alice saw one 2xx, from the branch that answered, and talks to it.
	n2xx := 0
	for _, m := range p.alice.trace()[ta:] {
		if m.code() >= 200 && m.code() < 300 && m.cseqMethod() == "INVITE" {
			n2xx++
			if !strings.Contains(m.get("contact"), fmt.Sprintf(":%d", b2.sipPort)) {
				return failf("alice got a 2xx whose Contact %q is not the answering phone's", m.get("contact"))
			}
		}
	}
	if n2xx == 0 {
		return failf("alice's trace has no 2xx: %s", p.alice.traceSummary(b.srv, ta))
	}
	if err := b.checkRTP(p.alice, b2); err != nil {
		return err
	}
	m2 = b2.mark()
	if _, err := p.alice.cmd("hangup", ""); err != nil {
		return err
	}
	if _, err := b2.waitEvent(m2, shortWait, "CALL_CLOSED", nil); err != nil {
		return err
	}
	return nil
}

// ---- scenario 11: blind transfer ----

func (b *bench) transfer(p *pair, extra *[]*baresip) error {
	if err := needReg(p); err != nil {
		return err
	}
	// The transfer target is carol: linphonec if it runs, else a third baresip.
	var target *baresip
	l := b.carol
	if l == nil || !l.p.running() {
		l = nil
		c, err := startBaresip(b.t, b.baresip, "carol/udp", b.certBoth, b.pp)
		if err != nil {
			return err
		}
		*extra = append(*extra, c)
		defer c.quit()
		if err := c.register("carol", users["carol"], "udp", b.srv.addr["udp"], "auto"); err != nil {
			return err
		}
		target = c
	}
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return err
	}
	ma, mb := p.alice.mark(), p.bob.mark()
	tb := p.bob.traceMark()
	var ml, mt int
	if l != nil {
		ml = l.mark()
	} else {
		mt = target.mark()
	}
	if _, err := p.bob.cmd("transfer", "sip:carol@"+domain); err != nil {
		return err
	}
	if _, ok := p.bob.findMsg(tb, shortWait, func(m sipMsg) bool { return m.code() == 202 && m.cseqMethod() == "REFER" }); !ok {
		return failf("bob's REFER got no 202: %s", p.bob.traceSummary(b.srv, tb))
	}
	newCall, err := p.alice.waitEvent(ma, evWait, "CALL_ESTABLISHED", func(e event) bool { return e.id() != id && strings.Contains(e.peer(), "carol") })
	if err != nil {
		return err
	}
	if _, err := p.bob.waitEvent(mb, shortWait, "CALL_CLOSED", func(e event) bool { return e.id() == id }); err != nil {
		return err
	}
	if l != nil {
		if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]*alice[^\n]* connected`)); err != nil {
			return err
		}
		// RTP from linphonec's audio port straight to alice.
		time.Sleep(1200 * time.Millisecond)
		st, err := p.alice.audioDebug()
		if err != nil {
			return err
		}
		want := fmt.Sprintf("127.0.0.1:%d", l.rtpPort)
		if st.remote != want || st.rcvd[want] == 0 {
			return withDetail(failf("after the transfer alice's RTP peer is %s (rcvd %v), want linphonec's %s", st.remote, st.rcvd, want), st.raw)
		}
		ml = l.mark()
		if _, err := p.alice.cmd("hangup", ""); err != nil {
			return err
		}
		if _, err := l.waitOut(ml, shortWait, regexp.MustCompile(`Call \d+ with [^\n]* ended`)); err != nil {
			return err
		}
	} else {
		if _, err := target.waitEvent(mt, shortWait, "CALL_ESTABLISHED", func(e event) bool { return e.id() == newCall.id() }); err != nil {
			return err
		}
		if err := b.checkRTP(p.alice, target); err != nil {
			return err
		}
	}
	return nil
}

// ---- scenario 12: re-INVITE ----

func (b *bench) reinvite(p *pair) error {
	if err := needReg(p); err != nil {
		return err
	}
	id, err := dial(p.alice, p.bob, "bob")
	if err != nil {
		return err
	}
	ok2xx := func(tm int, dir string) error {
		inv, ok := p.alice.findMsg(tm, shortWait, func(m sipMsg) bool {
			return m.code() == 0 && m.method() == "INVITE" && m.callID() == id && p.alice.sent(b.srv, m)
		})
		if !ok {
			return failf("alice sent no re-INVITE: %s", p.alice.traceSummary(b.srv, tm))
		}
		if dir != "" && !strings.Contains(inv.body, "a="+dir) {
			return withDetail(failf("alice's re-INVITE has no a=%s", dir), inv.full())
		}
		resp, ok := p.alice.findMsg(tm, shortWait, func(m sipMsg) bool {
			return m.code() >= 200 && m.code() != 401 && m.code() != 407 && m.cseqMethod() == "INVITE" && m.cseqNum() >= inv.cseqNum() && m.callID() == id
		})
		if !ok {
			return failf("alice's re-INVITE got no final response: %s", p.alice.traceSummary(b.srv, tm))
		}
		if resp.code() != 200 {
			return failf("re-INVITE (%s) got %q: %s", dir, resp.start, p.alice.traceSummary(b.srv, tm))
		}
		if _, ok := p.alice.findMsg(tm, msgWait, func(m sipMsg) bool { return m.method() == "ACK" && m.code() == 0 && m.cseqNum() == resp.cseqNum() }); !ok {
			return failf("alice sent no ACK for the re-INVITE's 200: %s", p.alice.traceSummary(b.srv, tm))
		}
		return nil
	}
	for _, step := range []struct{ cmd, dir string }{{"hold", "sendonly"}, {"resume", "sendrecv"}, {"reinvite", ""}} {
		tm := p.alice.traceMark()
		if _, err := p.alice.cmd(step.cmd, ""); err != nil {
			return err
		}
		if err := ok2xx(tm, step.dir); err != nil {
			return failf("%s: %v", step.cmd, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The call goes on: both still have it and media flows both ways.
	for _, ph := range []*baresip{p.alice, p.bob} {
		if n, err := ph.calls(); err != nil || n != 1 {
			return failf("%s has %d calls after the re-INVITEs (%v)", ph.name, n, err)
		}
	}
	before, err := p.bob.audioDebug()
	if err != nil {
		return err
	}
	if err := b.checkRTP(p.alice, p.bob); err != nil {
		return err
	}
	after, err := p.bob.audioDebug()
	if err != nil {
		return err
	}
	if after.rcvd[before.remote] <= before.rcvd[before.remote] {
		return failf("no RTP reached bob after the re-INVITEs (%d → %d packets)", before.rcvd[before.remote], after.rcvd[before.remote])
	}
	return nil
}
