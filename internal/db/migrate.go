package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Migration is one schema step. SQL holds the statements per dialect; a
// dialect with no entry uses Generic.
type Migration struct {
	Version int
	Name    string
	Generic []string
	SQL     map[Dialect][]string
}

func (m Migration) statements(d Dialect) []string {
	if s, ok := m.SQL[d]; ok {
		return s
	}
	return m.Generic
}

// Migrate brings the schema up to the newest version in migrations.go. Each
// step runs in its own transaction where the database allows DDL in one
// (PostgreSQL, SQLite), and is recorded in schema_version. A database newer
// than this binary is refused, so an old Parley never writes a schema it does
// not know.
func (d *DB) Migrate(ctx context.Context) error {
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := migrations[len(migrations)-1].Version
	if cur > latest {
		return fmt.Errorf("database schema version %d is newer than this Parley (%d): upgrade Parley", cur, latest)
	}
	for _, m := range migrations {
		if m.Version <= cur {
			continue
		}
		if err := d.apply(ctx, m); err != nil {
			return fmt.Errorf("schema migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the newest applied migration, 0 for none.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := d.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema_version: %w", err)
	}
	return int(v.Int64), nil
}

// LatestVersion is the schema version this binary creates.
func LatestVersion() int { return migrations[len(migrations)-1].Version }

func (d *DB) apply(ctx context.Context, m Migration) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range m.statements(d.Dialect) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w\n%s", err, s)
		}
	}
	if _, err := tx.ExecContext(ctx, d.Rebind("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"),
		m.Version, m.Name, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// lock takes a database-wide lock for migrating, so that several instances
// starting together apply each step once.
func (d *DB) lock(ctx context.Context) (func(), error) {
	switch d.Dialect {
	case Postgres:
		conn, err := d.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(715517)"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		return func() { conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(715517)"); conn.Close() }, nil
	case MySQL:
		conn, err := d.Conn(ctx)
		if err != nil {
			return nil, err
		}
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('parley_migrate', 60)").Scan(&got); err != nil || got.Int64 != 1 {
			conn.Close()
			return nil, fmt.Errorf("migration lock: %v", err)
		}
		return func() { conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('parley_migrate')"); conn.Close() }, nil
	}
	return func() {}, nil // SQLite: one connection, writers are serialized
}

// Migrations returns the schema history (for tests and `parley db status`).
func Migrations() []Migration { return append([]Migration(nil), migrations...) }
