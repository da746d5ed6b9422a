package db_test

import (
	"context"
	"testing"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

func TestMigrate(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			d, err := db.Open(ctx, dbtest.DSN(t, dialect))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if v, _ := d.SchemaVersion(ctx); v != 0 {
				// schema_version does not exist yet: SchemaVersion fails, that is fine
			}
			for i := 0; i < 2; i++ { // the second run is a no-op
				if err := d.Migrate(ctx); err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			v, err := d.SchemaVersion(ctx)
			if err != nil || v != db.LatestVersion() {
				t.Fatalf("version = %d, %v; want %d", v, err, db.LatestVersion())
			}
			var n int
			if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_version").Scan(&n); err != nil || n != len(db.Migrations()) {
				t.Fatalf("schema_version rows = %d, %v", n, err)
			}
			// A database from a newer Parley is refused.
			if _, err := d.ExecContext(ctx, d.Rebind("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)"), db.LatestVersion()+1); err != nil {
				t.Fatal(err)
			}
			if err := d.Migrate(ctx); err == nil {
				t.Fatal("migrated a database newer than the binary")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", "oracle://x", "sqlite:", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"} {
		if d, err := db.Open(context.Background(), dsn); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestRebindUpsert(t *testing.T) {
	pg := &db.DB{Dialect: db.Postgres}
	if got := pg.Rebind("a=? AND b=?"); got != "a=$1 AND b=$2" {
		t.Errorf("Rebind = %q", got)
	}
	my := &db.DB{Dialect: db.MySQL}
	if got := my.Upsert("t", []string{"k", "v"}, 1); got != "INSERT INTO t (k,v) VALUES (?,?) ON DUPLICATE KEY UPDATE v=VALUES(v)" {
		t.Errorf("mysql Upsert = %q", got)
	}
}

// TestSecret: a secret is made once and read back the same by later calls and
// by another connection to the same database (a restart, another instance);
// concurrent first calls agree on one value.
func TestSecret(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := dbtest.DSN(t, dialect)
			a, err := db.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const workers = 4
			got := make(chan []byte, workers)
			errs := make(chan error, workers)
			for range workers {
				go func() {
					s, err := a.Secret(ctx, "test", 32)
					got <- s
					errs <- err
				}()
			}
			var first []byte
			for range workers {
				s, err := <-got, <-errs
				if err != nil {
					t.Fatal(err)
				}
				if len(s) != 32 {
					t.Fatalf("secret of %d bytes, want 32", len(s))
				}
				if first == nil {
					first = s
				} else if string(s) != string(first) {
					t.Fatalf("concurrent first calls disagree: %x vs %x", s, first)
				}
			}
			b, err := db.Open(ctx, dsn) // a restart, or a second instance
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if s, err := b.Secret(ctx, "test", 32); err != nil || string(s) != string(first) {
				t.Fatalf("second connection read %x, %v; want %x", s, err, first)
			}
			if other, err := b.Secret(ctx, "other", 32); err != nil || string(other) == string(first) {
				t.Fatalf("another name gave %x, %v: want a new secret", other, err)
			}
			if _, err := b.Secret(ctx, "test", 16); err == nil {
				t.Fatal("a stored 32-byte secret was accepted as 16 bytes")
			}
		})
	}
}
