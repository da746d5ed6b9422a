package db

import (
	"context"
	"fmt"
)

// MigrateTo is migrateTo for the external tests (dbtest imports db, so
// they cannot live in package db).
func (d *DB) MigrateTo(ctx context.Context, version int) error { return d.migrateTo(ctx, version) }

// migrateTo brings the schema up to version and no further, as an older
// Parley would have left it: the steps of Migrate, under its lock.
func (d *DB) migrateTo(ctx context.Context, version int) error {
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.Version > version {
			break
		}
		if err := d.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %d: %w", m.Version, err)
		}
	}
	return nil
}
