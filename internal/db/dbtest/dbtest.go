// Package dbtest opens throw-away databases of each dialect for tests. SQLite
// always runs; PostgreSQL and MySQL run when PARLEY_TEST_POSTGRES /
// PARLEY_TEST_MYSQL hold a DSN of a server the test may create databases on
// (.ci/run sets both), and are skipped otherwise.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/db"
)

// Dialects lists the dialects to run a suite against, by name.
var Dialects = []string{"sqlite", "postgres", "mysql"}

// DSN returns a DSN for a new, empty database of the named dialect, dropped
// when the test ends, or skips the test when that server is not configured.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "parley.db")
	case "postgres":
		return serverDSN(t, "PARLEY_TEST_POSTGRES", `CREATE DATABASE %s`, `DROP DATABASE IF EXISTS %s WITH (FORCE)`)
	case "mysql":
		return serverDSN(t, "PARLEY_TEST_MYSQL", `CREATE DATABASE %s`, `DROP DATABASE IF EXISTS %s`)
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

// Open opens and migrates a new database of the named dialect.
func Open(t testing.TB, dialect string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func serverDSN(t testing.TB, env, create, drop string) string {
	t.Helper()
	base := os.Getenv(env)
	if base == "" {
		t.Skipf("%s not set: no %s server for this test", env, strings.ToLower(strings.TrimPrefix(env, "PARLEY_TEST_")))
	}
	admin, err := db.Open(context.Background(), base)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	defer admin.Close()
	var rb [6]byte
	rand.Read(rb[:])
	name := "parley_t_" + hex.EncodeToString(rb[:])
	if _, err := admin.Exec(strings.Replace(create, "%s", name, 1)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := db.Open(context.Background(), base)
		if err == nil {
			a.Exec(strings.Replace(drop, "%s", name, 1))
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
