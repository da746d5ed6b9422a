package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// seedRow is one row an older schema held, and how to find it again.
type seedRow struct {
	insert string // with ? placeholders
	args   []any
	check  string // a query returning one string that must equal want
	want   string
}

// seeds lists, by the migration that created the table, rows to put in a
// database of that version. A migration missing here adds no table that
// needs rows to test an upgrade.
var seeds = map[int][]seedRow{
	1: {{
		insert: "INSERT INTO users (username, domain, ha1_md5, ha1_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
		args:   []any{"alice", "example.test", "0123456789abcdef0123456789abcdef", "ab" + fmt.Sprintf("%062d", 7), 1_700_000_000},
		check:  "SELECT ha1_md5 FROM users WHERE username = 'alice' AND domain = 'example.test'",
		want:   "0123456789abcdef0123456789abcdef",
	}},
	2: {{
		insert: `INSERT INTO location (aor, contact_hash, contact, q, expires, call_id, cseq, path, received,
			transport, source_addr, local_addr, conn_id, instance, user_agent, sip_instance, reg_id, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{"alice@example.test", fmt.Sprintf("%064d", 1), "sip:alice@192.0.2.1:5060", 1000, int64(4_000_000_000_000),
			"cid@x", 7, "<sip:edge.example.net;lr>", "", "UDP", "192.0.2.1:5060", "127.0.0.1:5060", 0, "i1", "phone/1.0", "", 0,
			int64(1_700_000_000_000)},
		check: "SELECT contact FROM location WHERE aor = 'alice@example.test'",
		want:  "sip:alice@192.0.2.1:5060",
	}},
	3: {{
		insert: `INSERT INTO cdr (id, call_id, from_uri, from_name, to_uri, request_uri, caller, callee, source, transport,
			invite_at, ring_at, answer_at, end_at, duration, code, reason, disposition, missed, hangup_by, targets,
			referred_by, transfer_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{"rec-1", "call-1@x", "sip:alice@example.test", "Alice", "sip:bob@example.test", "sip:bob@example.test",
			"alice@example.test", "bob@example.test", "192.0.2.1:5060", "UDP", int64(1), int64(2), int64(3), int64(4), 1.5,
			200, "OK", "answered", 0, "caller", "sip:bob@192.0.2.2", "", ""},
		check: "SELECT caller FROM cdr WHERE id = 'rec-1'",
		want:  "alice@example.test",
	}},
	4: {{
		insert: "INSERT INTO admins (name, pw_hash, created_at) VALUES (?, ?, ?)",
		args:   []any{"root", "pbkdf2$x", 1},
		check:  "SELECT pw_hash FROM admins WHERE name = 'root'",
		want:   "pbkdf2$x",
	}, {
		insert: "INSERT INTO domains (name, created_at) VALUES (?, ?)",
		args:   []any{"example.test", 1},
		check:  "SELECT name FROM domains",
		want:   "example.test",
	}},
}

// TestMigrateFromOlderVersions builds a database at each older schema
// version, puts rows in every table it has, then runs Migrate: the schema
// reaches the latest version and every row is still there.
func TestMigrateFromOlderVersions(t *testing.T) {
	latest := db.LatestVersion()
	migrations := db.Migrations()
	for _, dialect := range dbtest.Dialects {
		for _, m := range migrations[:len(migrations)-1] {
			t.Run(fmt.Sprintf("%s/from_%d", dialect, m.Version), func(t *testing.T) {
				ctx := context.Background()
				d, err := db.Open(ctx, dbtest.DSN(t, dialect))
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if err := d.MigrateTo(ctx, m.Version); err != nil {
					t.Fatal(err)
				}
				if v, err := d.SchemaVersion(ctx); err != nil || v != m.Version {
					t.Fatalf("old database at version %d, %v; want %d", v, err, m.Version)
				}
				var rows []seedRow
				for v := 1; v <= m.Version; v++ {
					rows = append(rows, seeds[v]...)
				}
				for _, r := range rows {
					if _, err := d.ExecContext(ctx, d.Rebind(r.insert), r.args...); err != nil {
						t.Fatalf("seed at version %d: %v\n%s", m.Version, err, r.insert)
					}
				}
				if err := d.Migrate(ctx); err != nil {
					t.Fatalf("Migrate from version %d: %v", m.Version, err)
				}
				if v, err := d.SchemaVersion(ctx); err != nil || v != latest {
					t.Fatalf("after Migrate: version %d, %v; want %d", v, err, latest)
				}
				var n int
				if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_version").Scan(&n); err != nil || n != len(migrations) {
					t.Errorf("schema_version has %d rows (%v), want %d", n, err, len(migrations))
				}
				for _, r := range rows {
					var got string
					if err := d.QueryRowContext(ctx, r.check).Scan(&got); err != nil || got != r.want {
						t.Errorf("after Migrate from %d: %s = %q, %v; want %q", m.Version, r.check, got, err, r.want)
					}
				}
			})
		}
	}
}
