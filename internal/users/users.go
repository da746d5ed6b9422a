package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/db"
)

// User is an account, without its secrets.
type User struct {
	Username  string // unescaped
	Domain    string // lowercase
	CreatedAt time.Time
}

// AOR returns "user@domain" with the user %-escaped where SIP requires it.
func (u User) AOR() string { return escapeUser(u.Username) + "@" + u.Domain }

// Store reads and writes the users table. It is safe for concurrent use.
// Every call queries the database; only when a credentials query fails does
// Credentials answer from the credentials it read last (doc.go).
type Store struct {
	d *db.DB
	// where selects one row by username and domain; keyArgs fills its placeholders.
	where         string
	now           func() time.Time
	last          *lastGood
	lookupTimeout time.Duration

	version versionWatch // users_version, for fresh copies (fresh.go)

	credMu    sync.Mutex
	credStmt  *sql.Stmt // the credentials query, prepared on first use
	credRetry time.Time // no prepare before this after a failed one
}

var _ auth.CredentialStore = (*Store)(nil)

// New returns a Store on d, whose schema is migrated.
func New(d *db.DB) *Store {
	s := &Store{d: d, where: "username = ? AND domain = ?", now: time.Now,
		last: newLastGood(DefaultCacheSize, DefaultCacheMaxAge), lookupTimeout: DefaultLookupTimeout}
	if d.Dialect == db.MySQL {
		// The column collation ignores case: add an exact comparison that the
		// primary key still narrows down.
		s.where += " AND CAST(username AS BINARY) = CAST(? AS BINARY)"
	}
	return s
}

func (s *Store) keyArgs(user, domain string) []any {
	if s.d.Dialect == db.MySQL {
		return []any{user, domain, user}
	}
	return []any{user, domain}
}

// Add creates the user of aor with password. It returns ErrBadAOR,
// ErrWeakPassword or ErrExists (all possibly wrapped).
func (s *Store) Add(ctx context.Context, aor, password string) error {
	user, domain, err := ParseAOR(aor)
	if err != nil {
		return err
	}
	if err := checkPassword(user, domain, password); err != nil {
		return err
	}
	md5, sha := hashes(user, domain, password)
	_, err = s.d.ExecContext(ctx, s.d.Rebind(
		"INSERT INTO users (username, domain, ha1_md5, ha1_sha256, created_at) VALUES (?, ?, ?, ?, ?)"),
		user, domain, md5, sha, s.now().Unix())
	if err == nil {
		return s.bumpVersion(ctx)
	}
	// A unique violation, reported the same way by every driver: the row is there.
	var n int
	if qerr := s.d.QueryRowContext(ctx, s.d.Rebind("SELECT COUNT(*) FROM users WHERE username = ? AND domain = ?"),
		user, domain).Scan(&n); qerr == nil && n > 0 {
		return fmt.Errorf("%w: %s@%s", ErrExists, user, domain)
	}
	return fmt.Errorf("add user %s@%s: %w", user, domain, err)
}

// Delete removes the user of aor, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, aor string) error {
	user, domain, err := ParseAOR(aor)
	if err != nil {
		return err
	}
	s.last.forget(credKey{user, domain})
	res, err := s.d.ExecContext(ctx, s.d.Rebind("DELETE FROM users WHERE "+s.where), s.keyArgs(user, domain)...)
	if err != nil {
		return fmt.Errorf("delete user %s@%s: %w", user, domain, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: %s@%s", ErrNotFound, user, domain)
	}
	return s.bumpVersion(ctx)
}

// SetPassword replaces the HA1 values of the user of aor. It returns
// ErrBadAOR, ErrWeakPassword or ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, aor, password string) error {
	user, domain, err := ParseAOR(aor)
	if err != nil {
		return err
	}
	if err := checkPassword(user, domain, password); err != nil {
		return err
	}
	md5, sha := hashes(user, domain, password)
	s.last.forget(credKey{user, domain})
	res, err := s.d.ExecContext(ctx, s.d.Rebind("UPDATE users SET ha1_md5 = ?, ha1_sha256 = ? WHERE "+s.where),
		append([]any{md5, sha}, s.keyArgs(user, domain)...)...)
	if err != nil {
		return fmt.Errorf("set password of %s@%s: %w", user, domain, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return s.bumpVersion(ctx)
	}
	// MySQL counts only changed rows: the same password again changes none.
	_, err = s.get(ctx, user, domain)
	return err
}

// Get returns the user of aor, or ErrNotFound.
func (s *Store) Get(ctx context.Context, aor string) (User, error) {
	user, domain, err := ParseAOR(aor)
	if err != nil {
		return User{}, err
	}
	return s.get(ctx, user, domain)
}

func (s *Store) get(ctx context.Context, user, domain string) (User, error) {
	var u User
	var created int64
	err := s.d.QueryRowContext(ctx, s.d.Rebind("SELECT username, domain, created_at FROM users WHERE "+s.where),
		s.keyArgs(user, domain)...).Scan(&u.Username, &u.Domain, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: %s@%s", ErrNotFound, user, domain)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s@%s: %w", user, domain, err)
	}
	u.CreatedAt = time.Unix(created, 0)
	return u, nil
}

// List returns up to limit users (all when limit <= 0) after skipping
// offset, ordered by domain and user, and the total number of users.
func (s *Store) List(ctx context.Context, offset, limit int) ([]User, int, error) {
	var total int
	if err := s.d.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := s.d.QueryContext(ctx, s.d.Rebind(
		"SELECT username, domain, created_at FROM users ORDER BY domain, username LIMIT ? OFFSET ?"), limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	list := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Username, &u.Domain, &created); err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = time.Unix(created, 0)
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return list, total, nil
}

// Credentials returns the HA1 values of a user for the auth middleware
// (auth.CredentialStore). username is as the phone sent it (unescaped);
// domain is the realm. A missing user is auth.ErrUnknownUser. When the
// query fails (or takes longer than DefaultLookupTimeout) and the user's
// credentials were read at most DefaultCacheMaxAge ago, it returns that copy
// with StoreErr and ReadAt set instead of the error.
func (s *Store) Credentials(ctx context.Context, username, domain string) (auth.Credentials, error) {
	if username == "" || len(username) > maxUser || domain == "" || len(domain) > maxDomain {
		return auth.Credentials{}, auth.ErrUnknownUser
	}
	k := credKey{username, strings.ToLower(domain)}
	c, version, ok := s.fresh(ctx, k)
	if ok {
		return c, nil
	}
	c, err := s.readCredentials(ctx, k)
	switch {
	case err == nil:
		s.last.put(k, c, s.now(), version)
	case errors.Is(err, auth.ErrUnknownUser):
		s.last.forget(k)
	default:
		if old, read, ok := s.last.get(k, s.now()); ok {
			old.StoreErr, old.ReadAt = err, read
			return old, nil
		}
	}
	return c, err
}

func (s *Store) readCredentials(ctx context.Context, k credKey) (auth.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, s.lookupTimeout)
	defer cancel()
	var c auth.Credentials
	var row *sql.Row
	if st := s.credentialsStmt(ctx); st != nil {
		row = st.QueryRowContext(ctx, s.keyArgs(k.user, k.domain)...)
	} else {
		row = s.d.QueryRowContext(ctx, s.credentialsQuery(), s.keyArgs(k.user, k.domain)...)
	}
	err := row.Scan(&c.Username, &c.Domain, &c.HA1MD5, &c.HA1SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Credentials{}, auth.ErrUnknownUser
	}
	if err != nil {
		return auth.Credentials{}, fmt.Errorf("credentials of %s@%s: %w", k.user, k.domain, err)
	}
	return c, nil
}

func (s *Store) credentialsQuery() string {
	return s.d.Rebind("SELECT username, domain, ha1_md5, ha1_sha256 FROM users WHERE " + s.where)
}

// credentialsStmt returns the prepared credentials query, preparing it on
// first use (otherwise every digest answer parses the query text again, a
// seventh of a digest REGISTER on SQLite), or nil: then the caller runs the
// query unprepared. A failed prepare (the database is down) is tried again
// at most every 10 s, and no lock is held while it runs, so lookups during an
// outage still fall back to the copy quickly.
func (s *Store) credentialsStmt(ctx context.Context) *sql.Stmt {
	s.credMu.Lock()
	st := s.credStmt
	try := st == nil && !s.now().Before(s.credRetry)
	if try {
		s.credRetry = s.now().Add(10 * time.Second)
	}
	s.credMu.Unlock()
	if !try {
		return st
	}
	st, err := s.d.PrepareContext(ctx, s.credentialsQuery())
	if err != nil {
		return nil
	}
	s.credMu.Lock()
	defer s.credMu.Unlock()
	if s.credStmt != nil { // prepared meanwhile by another lookup
		st.Close()
		return s.credStmt
	}
	s.credStmt = st
	return st
}

// hashes returns the two HA1 values stored for a password, realm = domain.
func hashes(user, domain, password string) (md5, sha256 string) {
	return auth.HA1(auth.MD5, user, domain, password), auth.HA1(auth.SHA256, user, domain, password)
}
