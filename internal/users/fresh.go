package users

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/auth"
)

// Defaults of the version-checked credentials (doc.go).
const (
	// VersionCheckInterval is how often Credentials asks the database whether
	// users changed (users_version); a change made elsewhere is seen after at
	// most this long.
	VersionCheckInterval = time.Second
	// FreshMaxAge bounds how long a copy read while the version stood still
	// is used without reading the user again, for edits of the users table
	// made outside Parley (plain SQL), which do not move the version. Each
	// copy is used for a random 50 to 100 % of it, so that users read at the
	// same moment are not read again all at the same moment.
	FreshMaxAge = time.Minute
)

// versionWatch remembers the users_version counter as last read. Safe for
// concurrent use.
type versionWatch struct {
	mu       sync.Mutex
	v        int64
	checked  time.Time // when v was read; zero: never
	failed   time.Time // when reading it last failed: not tried again for an interval
	querying bool
	stmt     *sql.Stmt
}

// current returns the version read at most VersionCheckInterval ago, reading
// it again when older. ok is false while no recent value is known (another
// goroutine is reading it, or reading it failed less than an interval ago,
// so that a hanging database costs a request one timeout, not two): then
// the caller reads the user from the database.
func (s *Store) currentVersion(ctx context.Context) (v int64, ok bool) {
	w := &s.version
	now := s.now()
	w.mu.Lock()
	if !w.checked.IsZero() && now.Sub(w.checked) < VersionCheckInterval {
		v = w.v
		w.mu.Unlock()
		return v, true
	}
	if w.querying || now.Sub(w.failed) < VersionCheckInterval {
		w.mu.Unlock()
		return 0, false
	}
	w.querying = true
	w.mu.Unlock()
	v, err := s.readVersion(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.querying = false
	if err != nil {
		w.checked, w.failed = time.Time{}, now
		return 0, false
	}
	w.v, w.checked = v, now
	return v, true
}

func (s *Store) readVersion(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.lookupTimeout)
	defer cancel()
	const q = "SELECT version FROM users_version WHERE id = 1"
	w := &s.version
	w.mu.Lock()
	st := w.stmt
	w.mu.Unlock()
	if st == nil {
		var err error
		if st, err = s.d.PrepareContext(ctx, q); err != nil {
			return 0, err
		}
		w.mu.Lock()
		if w.stmt == nil {
			w.stmt = st
		} else {
			st.Close()
			st = w.stmt
		}
		w.mu.Unlock()
	}
	var v int64
	err := st.QueryRowContext(ctx).Scan(&v)
	return v, err
}

// bumpVersion tells every instance that users changed. It runs after the
// change, so an instance that sees the new version reads the new row.
func (s *Store) bumpVersion(ctx context.Context) error {
	s.version.mu.Lock()
	s.version.checked = time.Time{} // this instance reads it again at once
	s.version.mu.Unlock()
	_, err := s.d.ExecContext(ctx, "UPDATE users_version SET version = version + 1 WHERE id = 1")
	return err
}

// fresh returns the credentials of k read while the users version was the
// current one, at most FreshMaxAge ago; and the current version, or -1 when
// it is not known.
func (s *Store) fresh(ctx context.Context, k credKey) (auth.Credentials, int64, bool) {
	v, ok := s.currentVersion(ctx)
	if !ok {
		return auth.Credentials{}, -1, false
	}
	c, ok := s.last.getAt(k, v, s.now(), FreshMaxAge)
	return c, v, ok
}
