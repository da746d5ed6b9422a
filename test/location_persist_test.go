package test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// End-to-end tests of the location service's persistence: bindings survive a
// graceful restart on every database, a database that disappears under the
// running server gives 500 instead of a crash or silence, and an oversized
// REGISTER does not hurt the server.

// TestLocationRestartKeepsBindingsRFC3261s10_3 registers over UDP and TCP,
// shuts the App down gracefully, starts a new App on the same database and
// lists the bindings with their remaining expiry, source transport and
// address; a removal before a second restart stays removed.
func TestLocationRestartKeepsBindingsRFC3261s10_3(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dsn := dbtest.DSN(t, dialect)
			addUsers(t, dsn, "alice@example.test")
			s, stop := runApp(t, testConfig(t, dsn), nil)
			ru := newRegisterer(dial(t, s, "udp"), "alice")
			ru.mustRegister(t, contact("sip:alice@192.0.2.1:5060", ";expires=600;q=0.8"))
			tc := dial(t, s, "tcp")
			rt := newRegisterer(tc, "alice")
			wantCount(t, rt.mustRegister(t, contact("sip:alice@192.0.2.2:5060;transport=tcp", ";expires=900")), 2)
			if err := stop(); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}

			s, stop = runApp(t, testConfig(t, dsn), nil)
			r := newRegisterer(dial(t, s, "udp"), "alice")
			bs := r.list(t)
			wantCount(t, bs, 2)
			wantBinding(t, bs, "sip:alice@192.0.2.1:5060", 600, "0.8")
			wantBinding(t, bs, "sip:alice@192.0.2.2:5060;transport=tcp", 900, "")
			b := stored(t, dsn, "alice@example.test", "sip:alice@192.0.2.2:5060;transport=tcp")
			if b.transport != "TCP" || b.source != tc.local.String() {
				t.Errorf("after restart: transport %q source %q, want TCP %s", b.transport, b.source, tc.local)
			}
			wantCount(t, r.mustRegister(t, contact("sip:alice@192.0.2.1:5060", ";expires=0")), 1)
			if err := stop(); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}

			s, _ = runApp(t, testConfig(t, dsn), nil)
			bs = newRegisterer(dial(t, s, "tcp"), "alice").list(t)
			wantCount(t, bs, 1)
			wantBinding(t, bs, "sip:alice@192.0.2.2:5060;transport=tcp", 900, "")
		})
	}
}

// TestLocationDatabaseDown drops the database under a running App: a
// REGISTER then gets 500 or 503 (RFC 3261 §21.5.1, §21.5.4), not a crash and
// not silence, the failure is logged, and the server still answers OPTIONS.
// With authentication the credential store fails first; without it, in
// write-through mode, the location store does (registrar/doc.go: 500).
func TestLocationDatabaseDown(t *testing.T) {
	drops := map[string]struct{ env, stmt string }{
		"postgres": {"PARLEY_TEST_POSTGRES", "DROP DATABASE %s WITH (FORCE)"},
		"mysql":    {"PARLEY_TEST_MYSQL", "DROP DATABASE %s"},
	}
	modes := []struct {
		name, log string
		auth      bool
	}{
		{"digest_auth", "credential store failed", true},
		{"write-through_no_auth", "location store failed", false},
	}
	for _, dialect := range []string{"postgres", "mysql"} {
		for _, mode := range modes {
			t.Run(dialect+"/"+mode.name, func(t *testing.T) {
				dsn := dbtest.DSN(t, dialect)
				addUsers(t, dsn, "alice@example.test")
				var logs syncBuffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
				cfg := testConfig(t, dsn)
				cfg.Auth.Enabled = mode.auth
				if !mode.auth {
					cfg.Location.WriteMode = "write-through"
				}
				s, _ := runApp(t, cfg, log)
				for _, tr := range rawTransports {
					newRegisterer(dial(t, s, tr), "alice").mustRegister(t, contact("sip:alice@192.0.2.1:5060;"+tr, ""))
				}
				// Written back: nothing is queued when the database goes.
				stored(t, dsn, "alice@example.test", "sip:alice@192.0.2.1:5060;tcp")
				u, err := url.Parse(dsn)
				if err != nil {
					t.Fatal(err)
				}
				d := drops[dialect]
				dropDatabase(t, os.Getenv(d.env), fmt.Sprintf(d.stmt, strings.TrimPrefix(u.Path, "/")))

				for _, tr := range rawTransports {
					c := dial(t, s, tr)
					resp := newRegisterer(c, "alice").register(t, contact("sip:alice@192.0.2.9:5060", ""))
					if code := statusCode(resp); code != 500 && code != 503 {
						t.Errorf("%s: REGISTER with the database gone: want 500 or 503, got\n%s", tr, resp)
					}
					c.send(optionsTo("sip:example.test"))
					c.expect(t, `^SIP/2.0 200 `)
				}
				if !strings.Contains(logs.String(), mode.log) {
					t.Errorf("no %q in the log:\n%s", mode.log, logs.String())
				}
			})
		}
	}
}

// dropDatabase runs stmt on the administrative connection adminDSN.
func dropDatabase(t *testing.T, adminDSN, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := db.Open(ctx, adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TestOversizedRegisterRFC3261s18_3: a REGISTER with 1000 long contacts
// (about 30 KB of header) is refused with a 4xx over UDP; over TCP, where it
// exceeds the header section a connection frames, it is answered with an
// error or the connection is closed, never left hanging. The server then
// serves new requests.
func TestOversizedRegisterRFC3261s18_3(t *testing.T) {
	cfg := testConfig(t, "")
	addUsers(t, cfg.DB, "alice@example.test")
	s, _ := runApp(t, cfg, nil)
	var extra strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&extra, "Contact: <sip:contact-number-%d@192.0.2.1:5060;transport=udp>\n", i)
	}
	r := newRegisterer(dial(t, s, "udp"), "alice")
	r.list(t)
	if resp := r.register(t, extra.String()); statusCode(resp) < 400 || statusCode(resp) > 499 {
		t.Errorf("UDP: want 4xx, got\n%.300s", resp)
	}

	conn, err := net.DialTimeout("tcp", s.addr(t, "tcp").String(), replyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := strings.ReplaceAll(r.message(extra.String()), "$TRANSPORT $LOCAL", "TCP "+conn.LocalAddr().String())
	msg = strings.NewReplacer("$BRANCH", "z9hG4bK"+randHex(8), "$TAG", randHex(6), "\n", "\r\n").Replace(msg)
	conn.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	m, err := readStreamMessage(bufio.NewReader(conn))
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Errorf("TCP: no answer and the connection still open after %v", replyTimeout)
	case err == nil && statusCode(string(m)) < 400:
		t.Errorf("TCP: want an error response or a close, got\n%.300s", m)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		t.Logf("TCP: connection ended with %v", err)
	}
	for _, tr := range rawTransports {
		wantCount(t, newRegisterer(dial(t, s, tr), "alice").mustRegister(t, contact("sip:alice@192.0.2.1:5060", "")), 1)
	}
}
