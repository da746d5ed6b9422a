package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// TestShutdownEndsCalls: a graceful shutdown (App.Shutdown, what SIGTERM
// runs) with an answered call up sends a BYE to both ends (Reason: the
// server is shutting down), and the call's record, hangup_by "system",
// reaches the database before Shutdown returns.
func TestShutdownEndsCalls(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.Auth.Enabled = false
	s, _ := runApp(t, cfg, nil)
	alice, bob := pair(t, s, "udp", "tcp")
	call := alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in := bob.request(t, "INVITE")
	bob.reply(t, in, 200, "OK", sdp(false))
	call.confirm(alice.response(t, 200, "INVITE"))
	call.ack(t)
	bob.request(t, "ACK")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.app.Shutdown(ctx) }()
	for _, p := range []*phone{alice, bob} {
		bye := p.waitUpTo(t, 3*time.Second, p.user+": Parley's BYE at shutdown", isRequest("BYE"))
		if r := bye.get("Reason"); !strings.Contains(r, "shutting down") {
			t.Errorf("%s: BYE Reason %q", p.user, r)
		}
		p.reply(t, bye, 200, "OK", msgOpts{})
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Shutdown took %v with both BYEs answered at once", el)
	}
	rs, err := acc.Query(context.Background(), openDB(t, cfg.DB), acc.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].CallID != call.callID || rs[0].HangupBy != acc.BySystem ||
		rs[0].Disposition != acc.Answered || rs[0].EndAt.Before(rs[0].AnswerAt) || rs[0].EndAt.After(time.Now()) {
		t.Fatalf("records after shutdown: %+v; want the call, answered, hangup_by system", rs)
	}
}

// TestShutdownDatabaseDownKeepsDeadline: with registrations queued for a
// database that has gone away (write-back), Shutdown gives up writing them
// when its context ends, not after the location store's own 30 s, and says
// what was not written.
func TestShutdownDatabaseDownKeepsDeadline(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dsn := dbtest.DSN(t, dialect)
			cfg := testConfig(t, dsn)
			cfg.Auth.Enabled = false
			s, _ := runApp(t, cfg, nil)
			c := dial(t, s, "udp")
			newRegisterer(c, "alice").mustRegister(t, contact("sip:alice@192.0.2.1:5060", ""))
			stored(t, dsn, "alice@example.test", "sip:alice@192.0.2.1:5060")
			takeDatabaseAway(t, dialect, dsn)
			newRegisterer(c, "bob").mustRegister(t, contact("sip:bob@192.0.2.2:5060", "")) // queued, never written

			const deadline = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err := s.app.Shutdown(ctx)
			if el := time.Since(start); el > deadline+time.Second {
				t.Errorf("Shutdown took %v with a %v deadline", el, deadline)
			}
			if err == nil || !strings.Contains(err.Error(), "not written") {
				t.Errorf("Shutdown = %v; want an error saying bindings were not written", err)
			}
		})
	}
}
