package phones

import (
	"fmt"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/proctest"
)

// dbAway makes PostgreSQL refuse Parley's connections to database name (and
// drops the open ones), and waits until none is left.
func (ph *cdrPhase) dbAway(name string) error {
	if err := ph.b.pg.allow(name, false); err != nil {
		return err
	}
	var n int
	var err error
	if !proctest.WaitFor(5*time.Second, func() bool { n, err = ph.b.pg.backends(name); return err == nil && n == 0 }) {
		return failf("%d connections to %s still open 5 s after pg_terminate_backend (%v)", n, name, err)
	}
	if _, err := ph.db.records(); err == nil {
		return failf("parley cdr list still reads %s while it refuses connections", name)
	}
	return nil
}

// outageWithAuth: a call while the database refuses connections, with digest
// authentication on (the default).
func (ph *cdrPhase) outageWithAuth(name string) {
	ph.b.r.run(ph.name+"/db-refusing-connections-call-with-digest-auth", func() error {
		if err := ph.dbAway(name); err != nil {
			return err
		}
		defer ph.b.pg.allow(name, true)
		a, b := ph.alice, ph.bob
		ma, mb := a.mark(), b.mark()
		ta := a.traceMark()
		logMark := len(ph.srv.log())
		tDial := time.Now()
		if _, err := a.cmd("dial", "sip:bob@"+domain); err != nil {
			return err
		}
		ev, err := a.waitEvent(ma, evWait, "CALL_ESTABLISHED|CALL_CLOSED", nil)
		if err != nil {
			return err
		}
		if ev.Type() == "CALL_ESTABLISHED" {
			id := ev.ID()
			ph.seen[id] = true
			tEst := time.Now()
			if _, err := b.waitEvent(mb, shortWait, "CALL_ESTABLISHED", func(e event) bool { return e.ID() == id }); err != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond)
			tHang := time.Now()
			if err := ph.hangup(id, a, b, true); err != nil {
				return err
			}
			w := cdrWant{label: "call while the database is down (auth on)", callID: id, caller: aor("alice"), callee: aor("bob"),
				disp: acc.Answered, codes: []int{200}, hangupBy: acc.ByCaller, minDur: tHang.Sub(tEst).Seconds() - 0.05,
				maxDur: time.Since(tDial).Seconds() + 0.05, from: tDial, to: time.Now()}
			ph.wants = append(ph.wants, w)
			c := waitRecords(ph.stores[1:], 5*time.Second, w)
			if err := ph.b.pg.allow(name, true); err != nil {
				return err
			}
			c.add(waitRecords(ph.stores[:1], 45*time.Second, w))
			return c.err()
		}
		final, err := ph.finalResp(a, ta, "")
		if err != nil {
			return err
		}
		ph.seen[final.callID()] = true
		plog := ph.srv.log()[logMark:]
		var storeErr string
		for _, l := range strings.Split(plog, "\n") {
			if strings.Contains(l, "credential store failed") {
				storeErr = strings.TrimSpace(l)
				break
			}
		}
		if final.code() == 500 && storeErr != "" {
			return bugError{fmt.Sprintf("while the database refuses connections no call is routed: alice's INVITE to bob "+
				"(Call-ID %s) is challenged 407 and its authenticated retry answered %q, because digest auth reads the "+
				"credentials from the database on every request (users.Store caches nothing); Parley logs %q. The CDR "+
				"writer would only buffer, but calls fail before they reach the proxy (trace: %s)",
				final.callID(), final.start, storeErr, a.traceSummary(ph.srv.parley, ta))}
		}
		return failf("with the database refusing connections alice's call to bob got %q: %s\nparley: %s",
			final.start, a.traceSummary(ph.srv.parley, ta), proctest.Tail(plog, 1500))
	})
	for _, p := range []*baresip{ph.alice, ph.bob} {
		p.hangupAll()
	}
}

// outage is scenario (b): calls while PostgreSQL refuses connections are
// routed normally and their records reach the file at once; when
// connections are allowed again every record reaches the database once.
func (ph *cdrPhase) outage(name string) {
	var outWants []cdrWant
	down := false
	ph.b.r.run(ph.name+"/db-refusing-connections-calls-routed-file-written", func() error {
		// A call answered before the database goes away ends during the outage.
		a, b := ph.alice, ph.bob
		tDial := time.Now()
		id, err := dial(a, b, "bob")
		if err != nil {
			return err
		}
		ph.seen[id] = true
		tEst := time.Now()
		logMark := len(ph.srv.log())
		if err := ph.dbAway(name); err != nil {
			return err
		}
		down = true
		time.Sleep(300 * time.Millisecond)
		tHang := time.Now()
		if err := ph.hangup(id, a, b, false); err != nil {
			return withDetail(failf("the call answered before the outage: %v", err), "\nparley:\n"+proctest.Tail(ph.srv.log(), 3000))
		}
		outWants = append(outWants, cdrWant{label: "answered before, ended during the outage", callID: id,
			caller: aor("alice"), callee: aor("bob"), disp: acc.Answered, codes: []int{200}, hangupBy: acc.ByCallee,
			minDur: tHang.Sub(tEst).Seconds() - 0.05, maxDur: time.Since(tDial).Seconds() + 0.05, from: tDial, to: time.Now()})
		calls := []struct {
			label string
			f     func(string) ([]cdrWant, error)
		}{
			{"db down: answered, caller hangs up", func(l string) ([]cdrWant, error) {
				return ph.answeredCall(l, ph.alice, ph.bob, time.Second, true)
			}},
			{"db down: answered, callee hangs up", func(l string) ([]cdrWant, error) {
				return ph.answeredCall(l, ph.alice, ph.bob, time.Second, false)
			}},
			{"db down: busy", ph.busy},
			{"db down: cancel", ph.cancel},
			{"db down: unknown user", func(l string) ([]cdrWant, error) { return ph.notFound(l, ph.alice, "nobody") }},
		}
		for _, call := range calls {
			ws, err := call.f(call.label)
			if err != nil {
				return withDetail(failf("%s: the call did not go as it does with the database up: %v", call.label, err),
					"\nparley:\n"+proctest.Tail(ph.srv.log(), 3000))
			}
			outWants = append(outWants, ws...)
		}
		c := waitRecords(ph.stores[1:], 5*time.Second, outWants...)
		plog := ph.srv.log()[logMark:]
		if !strings.Contains(plog, "writing call records failed; retrying") {
			c.fail("parley logged no failed, retried write of the database sink while the database was down")
		}
		if _, err := ph.db.records(); err == nil {
			c.fail("the database was readable during the outage")
		}
		return c.err()
	})
	ph.b.r.run(ph.name+"/db-back-every-record-arrives-exactly-once", func() error {
		if !down {
			return skipError{"the outage did not happen"}
		}
		if len(outWants) == 0 {
			return failf("no call was made during the outage")
		}
		logMark := len(ph.srv.log())
		if err := ph.b.pg.allow(name, true); err != nil {
			return err
		}
		tBack := time.Now()
		ph.wants = append(ph.wants, outWants...)
		c := waitRecords(ph.stores[:1], 45*time.Second, outWants...)
		arrived := time.Since(tBack)
		if err := c.err(); err != nil {
			return withDetail(err, "\nparley:\n"+proctest.Tail(ph.srv.log(), 3000))
		}
		// A little longer: a retried batch must not add a second copy.
		time.Sleep(2 * time.Second)
		c, _ = checkAll(ph.db, ph.wants, ph.seen)
		if !strings.Contains(ph.srv.log()[logMark:], "sink writes resumed") {
			c.fail("parley did not log that the database sink resumed")
		}
		fmt.Printf("    %d records reached the database %.1f s after it accepted connections again\n", len(outWants), arrived.Seconds())
		return c.err()
	})
	ph.b.pg.allow(name, true)
}
