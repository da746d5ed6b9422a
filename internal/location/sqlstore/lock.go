package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"

	"github.com/parley-sip/parley/internal/db"
)

// locked runs f in a transaction that holds the lock of aor, and commits it
// if f returns nil. An error from f is returned as it is.
func (s *Store) locked(ctx context.Context, aor string, f func(*sql.Tx) error) error {
	switch s.d.Dialect {
	case db.MySQL:
		return s.lockedMySQL(ctx, aor, f)
	case db.Postgres:
		return s.inTx(ctx, s.d.BeginTx, func(tx *sql.Tx) error {
			// Transaction-scoped: released by COMMIT or ROLLBACK.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(aor)); err != nil {
				return fmt.Errorf("sqlstore: lock %s: %w", aor, err)
			}
			return f(tx)
		})
	}
	return s.inTx(ctx, s.d.BeginTx, f) // SQLite: BEGIN IMMEDIATE takes the write lock
}

// lockedMySQL takes a named lock on one connection, then runs the
// transaction on it. The lock is taken before the transaction starts, so
// every read in it sees what the previous holder committed; READ COMMITTED
// keeps InnoDB from taking gap locks that would make Updates of different
// AORs deadlock.
func (s *Store) lockedMySQL(ctx context.Context, aor string, f func(*sql.Tx) error) error {
	conn, err := s.d.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	name := fmt.Sprintf("parley_loc_%016x", uint64(lockKey(aor)))
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, s.opts.LockWait.Seconds()).Scan(&got); err != nil {
		return fmt.Errorf("sqlstore: lock %s: %w", aor, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("sqlstore: lock %s: timed out after %v", aor, s.opts.LockWait)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK(?)", name)
	return s.inTx(ctx, conn.BeginTx, f)
}

func (s *Store) inTx(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), f func(*sql.Tx) error) error {
	tx, err := begin(ctx, s.txOptions())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// txOptions asks MySQL for READ COMMITTED (see lockedMySQL); the others
// already use it (PostgreSQL) or serialize writers (SQLite).
func (s *Store) txOptions() *sql.TxOptions {
	if s.d.Dialect == db.MySQL {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

// lockKey is the 64-bit lock id of an AOR. Two AORs with the same key only
// wait for each other.
func lockKey(aor string) int64 {
	h := fnv.New64a()
	h.Write([]byte("parley location\x00"))
	h.Write([]byte(aor))
	return int64(h.Sum64())
}
