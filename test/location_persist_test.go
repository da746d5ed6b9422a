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
	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/internal/users"
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

// TestLocationDatabaseDown takes the database away under a running App
// (PostgreSQL and MariaDB: DROP DATABASE; SQLite: the file and its WAL
// truncated to nothing, as a failed disk would leave them): never a crash or
// silence, every failure logged, OPTIONS still answered.
//   - digest_auth (write-back): a user never seen before gets 500 or 503
//     (RFC 3261 §21.5.1, §21.5.4) and "credential store failed" is logged;
//     users who authenticated before the outage are checked against the
//     credentials read then (users/doc.go), with a warning: their REGISTER
//     is answered and their MESSAGE reaches the callee.
//   - digest_auth_write-through: the same users pass authentication, but
//     the location store must write first and fails: 500, logged.
//   - write-through_no_auth: the location store fails: 500, logged
//     (registrar/doc.go).
func TestLocationDatabaseDown(t *testing.T) {
	modes := []struct {
		name                string
		auth, writeThrough  bool
		known, unknown, log string // what a known user's REGISTER gets, an unknown one's, the log line
	}{
		{"digest_auth", true, false, "200", "5xx", "credential store failed"},
		{"digest_auth_write-through", true, true, "5xx", "5xx", "location store failed"},
		{"write-through_no_auth", false, true, "5xx", "5xx", "location store failed"},
	}
	for _, dialect := range dbtest.Dialects {
		for _, mode := range modes {
			t.Run(dialect+"/"+mode.name, func(t *testing.T) {
				dsn := dbtest.DSN(t, dialect)
				addUsers(t, dsn, "alice@example.test", "bob@example.test", "carol@example.test")
				var logs proctest.Buffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
				cfg := testConfig(t, dsn)
				cfg.Auth.Enabled = mode.auth
				if mode.writeThrough {
					cfg.Location.WriteMode = "write-through"
				}
				s, _ := runApp(t, cfg, log)
				bob := dial(t, s, "udp")
				newRegisterer(bob, "bob").mustRegister(t, contact("sip:bob@"+bob.local.String(), ""))
				for _, tr := range rawTransports {
					newRegisterer(dial(t, s, tr), "alice").mustRegister(t, contact("sip:alice@192.0.2.1:5060;"+tr, ""))
				}
				// Written back: nothing is queued when the database goes.
				stored(t, dsn, "alice@example.test", "sip:alice@192.0.2.1:5060;tcp")
				takeDatabaseAway(t, dialect, dsn)
				// Until its next check of users_version (at most this long), the
				// server answers digests from the copies it knows to be current,
				// without noticing the outage.
				time.Sleep(users.VersionCheckInterval)

				// In write-back mode a known user's REGISTER is a query: a change
				// would be queued, and Shutdown then retries writing it for
				// CachedOptions.CloseTimeout (30 s) against the missing database.
				known := ""
				if mode.writeThrough {
					known = contact("sip:alice@192.0.2.9:5060", "")
				}
				for _, tr := range rawTransports {
					c := dial(t, s, tr)
					wantClass(t, tr+": REGISTER of a user seen before", newRegisterer(c, "alice").register(t, known), mode.known)
					wantClass(t, tr+": REGISTER of a user not seen before", newRegisterer(c, "carol").register(t, contact("sip:carol@192.0.2.9:5060", "")), mode.unknown)
					c.send(optionsTo("sip:example.test"))
					c.expect(t, `^SIP/2.0 200 `)
				}
				if mode.name == "digest_auth" {
					messageDuringOutage(t, s, bob)
					if !strings.Contains(logs.String(), "using the credentials read before") {
						t.Errorf("no warning about credentials read before the outage in the log:\n%s", logs.String())
					}
				}
				if !strings.Contains(logs.String(), mode.log) {
					t.Errorf("no %q in the log:\n%s", mode.log, logs.String())
				}
			})
		}
	}
}

// wantClass checks a final response against "200" or "5xx" (500 or 503).
func wantClass(t *testing.T, what, resp, want string) {
	t.Helper()
	code := statusCode(resp)
	if (want == "200" && code != 200) || (want == "5xx" && code != 500 && code != 503) {
		t.Errorf("%s with the database gone: want %s, got\n%s", what, want, resp)
	}
}

// messageDuringOutage: alice, who authenticated before the outage, sends bob
// a MESSAGE; it is challenged, then reaches bob, whose 200 comes back.
func messageDuringOutage(t *testing.T, s *server, bob *client) {
	t.Helper()
	c := dial(t, s, "udp")
	callID := randHex(10) + "@e2e.invalid"
	resp := sendFinal(t, c, oodRequest("MESSAGE", "alice", "bob", callID, 1, ""))
	if statusCode(resp) != 407 {
		t.Fatalf("MESSAGE during the outage: want 407, got\n%s", resp)
	}
	c.send(oodRequest("MESSAGE", "alice", "bob", callID, 2,
		proxyAuthFor(pick(t, challenges(resp), "MD5"), "alice", testPassword, "MESSAGE", "sip:bob@example.test")))
	bob.sendRaw([]byte(responseTo(awaitRequest(t, bob, "MESSAGE"), 200, "OK")))
	if resp := final(t, c); statusCode(resp) != 200 {
		t.Fatalf("authenticated MESSAGE during the outage: want bob's 200, got\n%s", resp)
	}
}

// takeDatabaseAway makes the database of dsn fail for the App using it:
// DROP DATABASE on the servers, and for SQLite the file, its WAL and shared
// memory truncated to nothing (reads and writes then fail with an I/O error;
// removing the file would not do: the open connection keeps using it).
func takeDatabaseAway(t *testing.T, dialect, dsn string) {
	t.Helper()
	if dialect == "sqlite" {
		path := strings.TrimPrefix(dsn, "sqlite:")
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Truncate(f, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
		}
		return
	}
	drops := map[string]struct{ env, stmt string }{
		"postgres": {"PARLEY_TEST_POSTGRES", "DROP DATABASE %s WITH (FORCE)"},
		"mysql":    {"PARLEY_TEST_MYSQL", "DROP DATABASE %s"},
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	d := drops[dialect]
	dropDatabase(t, os.Getenv(d.env), fmt.Sprintf(d.stmt, strings.TrimPrefix(u.Path, "/")))
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
