package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmts holds the prepared statements of the write path. Batches are cut
// into power-of-two chunks (chunk), so that few distinct texts exist (one
// per power of two up to the chunk limit), prepared once when the Store is
// made instead of parsed again for every batch: on SQLite that parse was a
// sixth of the write-back's cost at 10,000 REGISTERs/s.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// warm prepares the statements of queries on d. It runs before any
// transaction (New): preparing on d while a transaction holds SQLite's only
// connection would wait for that connection. A query that fails to prepare
// is left out and runs unprepared.
func (c *stmts) warm(ctx context.Context, d *sql.DB, queries []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	for _, q := range queries {
		if st, err := d.PrepareContext(ctx, q); err == nil {
			c.m[q] = st
		}
	}
}

// get returns the prepared statement for query, or nil.
func (c *stmts) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// close closes every cached statement.
func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for q, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, q)
	}
	return first
}

// exec runs query with args inside tx, through its prepared statement when
// there is one (tx.StmtContext uses the transaction's own connection,
// preparing again there if the database reconnected).
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	var err error
	if st := s.stmts.get(query); st != nil {
		_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, query, args...)
	}
	return err
}

// deleteAORs and insertRows are the texts of replace's statements for n
// AORs or rows.
func (s *Store) deleteAORs(n int) string {
	return s.d.Rebind("DELETE FROM location WHERE aor IN (" + list(n) + ")")
}

func (s *Store) insertRows(n int) string {
	return s.d.Rebind("INSERT INTO location (" + insertCols + ") VALUES " + groups(n, ncols))
}

// warmStatements prepares every statement replace can use: one per power of
// two up to aorsChunk and rowsChunk.
func (s *Store) warmStatements() {
	var qs []string
	for n := 1; n <= aorsChunk; n <<= 1 {
		qs = append(qs, s.deleteAORs(n))
	}
	for n := 1; n <= rowsChunk; n <<= 1 {
		qs = append(qs, s.insertRows(n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.stmts.warm(ctx, s.d.DB, qs)
}

// chunk returns the size of the next chunk of n items: the largest power of
// two not above n or limit (limit must be a power of two).
func chunk(n, limit int) int {
	c := limit
	for c > n {
		c >>= 1
	}
	return c
}
