// Package phones is the acceptance test of "real phones call each other
// through Parley": baresip 1.0.0 and linphonec 5.1 (Debian 12 packages
// baresip, linphone-cli) register with digest at a freshly built `parley
// serve` on 127.0.0.1 (UDP, TCP and TLS, a fresh SQLite database, users
// added with `parley user add`, default configuration) and call each other
// through it. One server serves the whole run; every phone has its own config
// directory (linphonec its own HOME) and is killed by PID at the end.
//
// The scenarios run three times, once per transport (udp, tcp, tls), each
// phase with its own phones on that transport: alice and bob on baresip,
// carol on linphonec:
//
//	1 REGISTER with digest (alice, bob; carol)
//	2 call with auto-answer, RTP directly between the phones
//	3, 4 hang-up by the caller, by the callee
//	5 busy (486)
//	6 decline (603, from linphonec: baresip 1.0.0's hangup always sends 486)
//	7 CANCEL → 487
//	8 unknown user → 404, 9 known user without binding → 404
//	10 a call forked to two registrations of bob, one answers, one is cancelled
//	11 blind transfer (REFER) to carol
//	12 re-INVITE (hold, resume, plain re-INVITE)
//	13 re-INVITE adding video (baresip with fakevideo and vp8: erin, frank)
//	14 a conference hosted by carol (linphonec) with alice and bob
//
// plus linphonec calling baresip, and over tcp and tls a call from erin on
// UDP that changes transport in Parley. Every answered call checks that RTP
// flows directly between the phones (baresip's audio_debug and video_debug:
// the peer address, packets received from it and sent); where linphonec is
// one end, liblinphone's own statistics must also show RTP both ways. SIP
// exchanges are checked in baresip's SIP trace (-s) and liblinphone's log.
//
// Every scenario prints one line, `PASS <name>`, `FAIL <name>: reason` or
// `SKIP <name>: reason`, and the run ends with `N passed, M failed, K
// skipped`; the test fails when a scenario fails.
//
// Without baresip the test is skipped, unless the environment variable CI is
// set: then it fails. linphonec's scenarios are skipped without linphonec,
// where no private mount namespace can be made (`unshare -m`, then `unshare
// -r -m`; linphonec needs one so that a DNS lookup of example.test never
// leaves the machine), or without a default route (liblinphone then thinks
// the network is down); with CI set, each of these, like any other skip, is
// a failure. PHONES_WITHOUT_LINPHONEC=1 runs the baresip-only variants;
// PHONES_RUN=REGEXP runs only the scenarios whose names match (registration
// always runs); PHONES_LOGDIR=DIR keeps every process's output (SIP traces)
// there. How the clients are driven headless is in
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

	"github.com/parley-sip/parley/internal/proctest"
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
	"erin":  "erin-Pw-4715", // baresip with video; the cross-transport caller
	"frank": "frank-Pw-4716",
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

// report runs the scenarios and counts their results. With ci set a
// scenario that could not run is a failure, not a skip. only (if not nil)
// selects the scenarios to run.
type report struct {
	t                *testing.T
	ci               bool
	only             *regexp.Regexp
	pass, fail, skip int
	afterEach        func()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
}

// run runs one scenario and prints its line.
func (r *report) run(name string, f func() error) bool {
	if r.only != nil && !r.only.MatchString(name) && !strings.Contains(name, "/1-register") {
		return false
	}
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
	if errors.As(err, &skip) && r.ci {
		err = failf("CI is set, so this may not be skipped: %s", skip.reason)
	}
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
	fmt.Printf("%d passed, %d failed, %d skipped\n", r.pass, r.fail, r.skip)
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
	cert     string // Parley's certificate (PEM), linphonec's root CA
	certBoth string // certificate and key, baresip's sip_certificate
	// linphonec: binary, DNS jail, or why it cannot run
	linphonec  string
	jail       []string
	noLinphone error
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
	r := &report{t: t, ci: ci}
	if re := os.Getenv("PHONES_RUN"); re != "" {
		if r.only, err = regexp.Compile(re); err != nil {
			t.Fatalf("PHONES_RUN: %v", err)
		}
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
	b.cert, b.certBoth = cert, both
	// Parley's defaults: baresip 1.0.0 gives up on a 401/407 as soon as one
	// challenge names an algorithm other than MD5, which the default
	// auth.md5_only_agents: [baresip] takes care of.
	b.srv, err = startParley(t, bin, dir, "", cert, key, users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("parley log:\n%s", proctest.Tail(b.srv.p.Log(), 20000))
		}
	})
	b.findLinphonec(dir)

	start := time.Now()
	defer func() {
		r.summary()
		t.Logf("real phones: %.0f s", time.Since(start).Seconds())
	}()
	for _, tr := range []string{"udp", "tcp", "tls"} {
		b.phase(r, tr)
	}
}

// findLinphonec sets b.linphonec and b.jail, or b.noLinphone to why
// linphonec's scenarios cannot run (a skip; report.run turns it into a
// failure under CI).
func (b *bench) findLinphonec(dir string) {
	var err error
	if os.Getenv("PHONES_WITHOUT_LINPHONEC") != "" {
		b.noLinphone = skipError{"PHONES_WITHOUT_LINPHONEC is set"}
		return
	}
	if b.linphonec, err = lookClient("linphonec", "linphone-cli"); err != nil {
		b.noLinphone = skipError{err.Error()}
		return
	}
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

// pair is the phones of one transport phase: alice and bob on baresip,
// carol on linphonec.
type pair struct {
	tr     string
	alice  *baresip
	bob    *baresip
	carol  *linphone // nil until registered
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
	for _, ph := range []*baresip{p.alice, p.bob} {
		if ph != nil {
			ph.quit()
		}
	}
	if p.carol != nil {
		p.carol.quit()
	}
}

// phoneLogs is the tail of each phone's output, for failure details.
func phoneLogs(ps ...*baresip) string {
	var sb strings.Builder
	for _, p := range ps {
		if p == nil {
			continue
		}
		fmt.Fprintf(&sb, "\n--- %s output (tail) ---\n%s", p.name, proctest.Tail(p.p.Log(), 6000))
	}
	return sb.String()
}

// phase runs every scenario over tr with phones of its own.
func (b *bench) phase(r *report, tr string) {
	p, err := b.startPair(tr)
	if err != nil {
		r.run(tr+"/1-register-digest-baresip(alice,bob)", func() error { return err })
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
		if p.carol != nil && p.carol.p.Running() {
			p.carol.send("terminate all")
		}
	}
	defer func() { r.afterEach = nil }()

	r.run(tr+"/1-register-digest-baresip(alice,bob)", func() error { return b.register(p) })
	r.run(tr+"/1-register-digest-linphonec(carol)", func() error { return b.registerCarol(p) })
	r.run(tr+"/2-call-autoanswer-direct-rtp", func() error { return b.callRTP(p) })
	r.run(tr+"/3-hangup-from-caller", func() error { return b.hangup(p, true) })
	r.run(tr+"/4-hangup-from-callee", func() error { return b.hangup(p, false) })
	r.run(tr+"/5-busy-486", func() error { return b.busy(p) })
	r.run(tr+"/6-decline-603", func() error { return b.decline(p) })
	r.run(tr+"/extra-linphonec-calls-baresip(carol → alice)", func() error { return b.linphoneCalls(p) })
	r.run(tr+"/7-cancel-487", func() error { return b.cancel(p) })
	r.run(tr+"/8-unknown-user-404", func() error { return b.notFound(p, "nobody") })
	r.run(tr+"/9-known-user-unregistered-404", func() error { return b.notFound(p, "dave") })
	r.run(tr+"/10-fork-two-registrations", func() error { return b.fork(p, &extra) })
	r.run(tr+"/11-blind-transfer-refer", func() error { return b.transfer(p, &extra) })
	r.run(tr+"/12-reinvite-hold-resume", func() error { return b.reinvite(p) })
	r.run(tr+"/13-reinvite-adding-video", func() error { return b.videoAdd(p, &extra) })
	r.run(tr+"/14-conference-hosted-by-linphonec(carol + alice, bob)", func() error { return b.conference(p) })
	if tr != "udp" {
		r.run(tr+"/extra-cross-transport-call(erin udp → bob "+tr+")", func() error { return b.crossTransport(p) })
	}
}

// needReg fails a scenario whose phones did not register.
func needReg(p *pair) error {
	if !p.regOK {
		return failf("alice and bob are not registered over %s (scenario 1 failed)", p.tr)
	}
	return nil
}

// needCarol fails or skips (with why+reason) a scenario that needs linphonec.
func (b *bench) needCarol(p *pair, why string) error {
	if p.carol != nil && p.carol.p.Running() {
		return nil
	}
	if b.noLinphone != nil {
		var s skipError
		if errors.As(b.noLinphone, &s) {
			return skipError{why + s.reason}
		}
		return b.noLinphone
	}
	return failf("linphonec carol is not running over %s (scenario %s/1 for carol failed)", p.tr, p.tr)
}
