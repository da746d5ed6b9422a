// Package sqlstore keeps location bindings in the SQL table "location"
// (schema migration 2 in internal/db) on SQLite, PostgreSQL or MySQL/MariaDB.
// Every call is a query: this is the shared-database mode, where several
// Parley instances use one database and each sees the others' registrations
// at once. For one instance, location.NewCached over this store is faster.
//
// Update holds a per-AOR lock for its transaction so that REGISTERs for one
// AOR handled by different instances never interleave: a transaction-scoped
// advisory lock on PostgreSQL (pg_advisory_xact_lock), GET_LOCK on MySQL, and
// SQLite's database write lock (BEGIN IMMEDIATE).
//
// Columns: times are BIGINT unix milliseconds, Path is its values joined by
// "\n", addresses are text ("" when unset), conn_id holds the uint64
// connection id bit for bit in a signed BIGINT, and the key is (aor,
// contact_hash) with contact_hash the hex SHA-256 of the contact.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/location"
)

// Options configures a Store. Zero values take the defaults.
type Options struct {
	// LockWait is how long Update waits for another Update of the same AOR
	// on MySQL (GET_LOCK). Default 10s. On PostgreSQL the wait is bounded by
	// the context, on SQLite by the database's busy timeout.
	LockWait time.Duration
}

// Store is a location.Store over a database. It does not own the database:
// Close leaves it open.
type Store struct {
	d     *db.DB
	opts  Options
	q     queries
	stmts stmts // prepared statements of replace
}

var (
	_ location.Store    = (*Store)(nil)
	_ location.Replacer = (*Store)(nil)
)

type queries struct {
	lookup, selectAOR, list, count, expire, deleteConn string
}

// New returns a Store over d, whose schema must have been migrated (d.Migrate).
func New(d *db.DB, opts Options) (*Store, error) {
	if d == nil {
		return nil, errors.New("sqlstore: nil database")
	}
	if opts.LockWait < 0 {
		return nil, errors.New("sqlstore: negative LockWait")
	}
	if opts.LockWait == 0 {
		opts.LockWait = 10 * time.Second
	}
	sel := "SELECT " + selectCols + " FROM location "
	s := &Store{d: d, opts: opts, q: queries{
		lookup:     d.Rebind(sel + "WHERE aor = ? AND expires > ?"),
		selectAOR:  d.Rebind(sel + "WHERE aor = ?"),
		list:       d.Rebind(sel + "WHERE expires > ? ORDER BY aor, contact, contact_hash LIMIT ? OFFSET ?"),
		count:      d.Rebind("SELECT COUNT(*) FROM location WHERE expires > ?"),
		expire:     d.Rebind("DELETE FROM location WHERE expires <= ?"),
		deleteConn: d.Rebind("DELETE FROM location WHERE instance = ? AND conn_id = ?"),
	}}
	s.warmStatements()
	return s, nil
}

// Lookup returns the unexpired bindings of aor, ordered by location.Less.
func (s *Store) Lookup(ctx context.Context, aor string) ([]location.Binding, error) {
	bs, err := scanAll(s.d.QueryContext(ctx, s.q.lookup, aor, time.Now().UnixMilli()))
	slices.SortFunc(bs, location.Less)
	return bs, err
}

// Update replaces the bindings of aor with what fn returns, in one
// transaction under the AOR's lock.
func (s *Store) Update(ctx context.Context, aor string, fn func([]location.Binding) ([]location.Binding, error)) ([]location.Binding, error) {
	var out []location.Binding
	err := s.locked(ctx, aor, func(tx *sql.Tx) error {
		now := time.Now()
		all, err := scanAll(tx.QueryContext(ctx, s.q.selectAOR, aor))
		if err != nil {
			return err
		}
		cur := slices.DeleteFunc(all, func(b location.Binding) bool { return !b.Expires.After(now) })
		slices.SortFunc(cur, location.Less)
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if next, err = location.Prepare(aor, next, now); err != nil {
			return err
		}
		out = next
		return s.replace(ctx, tx, []location.Change{{AOR: aor, Bindings: next}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Replace writes the complete binding sets of many AORs in one transaction,
// without per-AOR locks (location.Cached, the only writer, uses it).
func (s *Store) Replace(ctx context.Context, changes []location.Change) error {
	now := time.Now()
	prepared := make([]location.Change, len(changes))
	for i, ch := range changes {
		bs, err := location.Prepare(ch.AOR, ch.Bindings, now)
		if err != nil {
			return err
		}
		prepared[i] = location.Change{AOR: ch.AOR, Bindings: bs}
	}
	tx, err := s.d.BeginTx(ctx, s.txOptions())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.replace(ctx, tx, prepared); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteConn removes the bindings registered over connection id on instance.
func (s *Store) DeleteConn(ctx context.Context, instance string, id uint64) (int, error) {
	if id == 0 {
		return 0, nil
	}
	return affected(s.d.ExecContext(ctx, s.q.deleteConn, instance, int64(id)))
}

// Expire removes the bindings that expired at or before now.
func (s *Store) Expire(ctx context.Context, now time.Time) (int, error) {
	return affected(s.d.ExecContext(ctx, s.q.expire, now.UnixMilli()))
}

// List returns unexpired bindings ordered by AOR then contact, and their total.
func (s *Store) List(ctx context.Context, offset, limit int) ([]location.Binding, int, error) {
	nowMs := time.Now().UnixMilli()
	lim := int64(limit)
	if limit <= 0 {
		lim = math.MaxInt64
	}
	bs, err := scanAll(s.d.QueryContext(ctx, s.q.list, nowMs, lim, max(offset, 0)))
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.d.QueryRowContext(ctx, s.q.count, nowMs).Scan(&total); err != nil {
		return nil, 0, err
	}
	return bs, total, nil
}

// Count returns the number of unexpired bindings.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.d.QueryRowContext(ctx, s.q.count, time.Now().UnixMilli()).Scan(&n)
	return n, err
}

// Close closes the Store's prepared statements; the database stays open for
// its owner.
func (s *Store) Close() error { return s.stmts.close() }

func affected(r sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}
