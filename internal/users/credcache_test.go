package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// clockStore returns a Store on a new database of dialect whose clock the
// test moves, with alice@example.com added.
func clockStore(t *testing.T, dialect string) (*Store, *db.DB, *time.Time) {
	t.Helper()
	d := dbtest.Open(t, dialect)
	now := time.Unix(1_700_000_000, 0)
	s := New(d)
	s.now = func() time.Time { return now }
	if err := s.Add(context.Background(), "alice@example.com", "wonderland"); err != nil {
		t.Fatal(err)
	}
	return s, d, &now
}

// TestCredentialsDuringOutage: while the database fails, a user read at
// most DefaultCacheMaxAge ago is answered from the copy, marked with the
// error and when it was read; an older copy, or none, gives the error.
func TestCredentialsDuringOutage(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s, d, now := clockStore(t, dialect)
			ctx := context.Background()
			want, err := s.Credentials(ctx, "alice", "Example.COM")
			if err != nil || want.StoreErr != nil {
				t.Fatalf("database up: %+v, %v", want, err)
			}
			readAt := *now
			d.Close()
			*now = now.Add(DefaultCacheMaxAge)
			got, err := s.Credentials(ctx, "alice", "example.com")
			if err != nil || got.HA1MD5 != want.HA1MD5 || got.HA1SHA256 != want.HA1SHA256 {
				t.Fatalf("database down, read %v ago: %+v, %v; want the copy", DefaultCacheMaxAge, got, err)
			}
			if got.StoreErr == nil || !got.ReadAt.Equal(readAt) {
				t.Errorf("copy not marked: StoreErr %v, ReadAt %v (want %v)", got.StoreErr, got.ReadAt, readAt)
			}
			if _, err := s.Credentials(ctx, "bob", "example.com"); err == nil || errors.Is(err, auth.ErrUnknownUser) {
				t.Errorf("database down, never read: %v, want the database error", err)
			}
			*now = now.Add(time.Millisecond)
			if c, err := s.Credentials(ctx, "alice", "example.com"); err == nil {
				t.Errorf("database down, copy older than %v: %+v, want the error", DefaultCacheMaxAge, c)
			}
		})
	}
}

// TestCredentialsNoNegativeCache: an unknown user is never remembered, so a
// user added afterwards, through this store or another process's, counts at
// once; while the database answers, changes made elsewhere count at once.
func TestCredentialsNoNegativeCache(t *testing.T) {
	s, d, now := clockStore(t, "sqlite")
	other := New(d) // `parley user` in another process, or another instance
	ctx := context.Background()
	for _, add := range []*Store{s, other} {
		user := fmt.Sprintf("carol%p", add)
		if _, err := s.Credentials(ctx, user, "example.com"); !errors.Is(err, auth.ErrUnknownUser) {
			t.Fatalf("before add: %v", err)
		}
		if err := add.Add(ctx, user+"@example.com", "carol-pw-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Credentials(ctx, user, "example.com"); err != nil {
			t.Errorf("added right after an unknown-user answer: %v", err)
		}
	}
	before, _ := s.Credentials(ctx, "alice", "example.com")
	if err := other.SetPassword(ctx, "alice@example.com", "new-wonderland"); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(VersionCheckInterval) // a change elsewhere counts within this
	if after, err := s.Credentials(ctx, "alice", "example.com"); err != nil || after.HA1MD5 == before.HA1MD5 {
		t.Errorf("password changed elsewhere: still the old HA1 (%v)", err)
	}
	if err := other.Delete(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(VersionCheckInterval)
	if _, err := s.Credentials(ctx, "alice", "example.com"); !errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("deleted elsewhere: %v, want unknown user", err)
	}
	d.Close()
	if _, err := s.Credentials(ctx, "alice", "example.com"); err == nil {
		t.Error("deleted user answered from a copy during an outage")
	}
}

// TestCredentialsForgottenOnChange: a password change or a deletion through
// the store drops its copy, so an outage right after cannot bring back the
// old password or the deleted user.
func TestCredentialsForgottenOnChange(t *testing.T) {
	for _, change := range []string{"passwd", "del"} {
		t.Run(change, func(t *testing.T) {
			s, d, _ := clockStore(t, "sqlite")
			ctx := context.Background()
			if _, err := s.Credentials(ctx, "alice", "example.com"); err != nil {
				t.Fatal(err)
			}
			var err error
			if change == "passwd" {
				err = s.SetPassword(ctx, "alice@example.com", "new-wonderland")
			} else {
				err = s.Delete(ctx, "alice@example.com")
			}
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
			if c, err := s.Credentials(ctx, "alice", "example.com"); err == nil {
				t.Errorf("after %s and an outage: %+v from the copy, want the error", change, c)
			}
		})
	}
}

// TestCredentialsCacheBounded: the copies never exceed the cache size; the
// entry read longest ago goes first.
func TestCredentialsCacheBounded(t *testing.T) {
	g := newLastGood(4, time.Hour)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 100 {
		g.put(credKey{fmt.Sprint("u", i), "d"}, auth.Credentials{}, t0.Add(time.Duration(i)*time.Second), -1)
		if n := g.len(); n > 4 {
			t.Fatalf("after %d puts: %d entries, size 4", i+1, n)
		}
	}
	if _, _, ok := g.get(credKey{"u99", "d"}, t0.Add(100*time.Second)); !ok {
		t.Error("the newest entry was evicted")
	}
	if off := newLastGood(0, time.Hour); true {
		off.put(credKey{"u", "d"}, auth.Credentials{}, t0, -1)
		if off.len() != 0 {
			t.Error("size 0 keeps entries")
		}
	}
}

// TestCredentialsHangingDatabase: a query that blocks (a table lock held by
// another session) gives up after the lookup timeout and the copy answers.
func TestCredentialsHangingDatabase(t *testing.T) {
	locks := map[string][]string{
		"postgres": {"BEGIN", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"},
		"mysql":    {"LOCK TABLES users WRITE"},
	}
	for _, dialect := range []string{"postgres", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			s, d, now := clockStore(t, dialect)
			ctx := context.Background()
			if _, err := s.Credentials(ctx, "alice", "example.com"); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(FreshMaxAge + time.Second) // the copy is no longer fresh: the users table is read
			conn, err := d.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range locks[dialect] {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			defer conn.ExecContext(context.Background(), map[string]string{"postgres": "ROLLBACK", "mysql": "UNLOCK TABLES"}[dialect])
			s.lookupTimeout = 300 * time.Millisecond
			start := time.Now()
			bounded, cancel := context.WithTimeout(ctx, 5*time.Second) // fails the test, not hangs it, without the timeout
			defer cancel()
			c, err := s.Credentials(bounded, "alice", "example.com")
			if took := time.Since(start); err != nil || c.StoreErr == nil || took > 3*time.Second {
				t.Fatalf("locked table: %+v, %v after %v; want the copy after about %v", c, err, took, s.lookupTimeout)
			}
		})
	}
}

// TestCredentialsFresh: while users_version stands still, Credentials answers
// from the copy without reading the users table (an edit made with plain SQL,
// which does not move the version, is not seen), for at most FreshMaxAge; a
// change through any Store moves the version and is seen after the next
// version check.
func TestCredentialsFresh(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s, d, now := clockStore(t, dialect)
			ctx := context.Background()
			want, err := s.Credentials(ctx, "alice", "example.com")
			if err != nil {
				t.Fatal(err)
			}
			// a plain SQL edit: no version change (32 characters: CHAR(32) pads)
			edited := strings.Repeat("0", 32)
			if _, err := d.ExecContext(ctx, "UPDATE users SET ha1_md5 = '"+edited+"' WHERE username = 'alice'"); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(VersionCheckInterval) // the version is read again, unchanged
			if got, err := s.Credentials(ctx, "alice", "example.com"); err != nil || got.HA1MD5 != want.HA1MD5 {
				t.Fatalf("version unchanged: %+v, %v; want the copy", got, err)
			}
			*now = now.Add(FreshMaxAge)
			if got, err := s.Credentials(ctx, "alice", "example.com"); err != nil || got.HA1MD5 != edited {
				t.Fatalf("after FreshMaxAge: %+v, %v; want the row as edited", got, err)
			}
			other := New(d)
			if err := other.SetPassword(ctx, "alice@example.com", "looking-glass"); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Credentials(ctx, "alice", "example.com"); got.HA1MD5 != edited {
				t.Fatalf("before the next version check: %q, want the copy still", got.HA1MD5)
			}
			*now = now.Add(VersionCheckInterval)
			if got, err := s.Credentials(ctx, "alice", "example.com"); err != nil || got.HA1MD5 != hexMD5("alice:example.com:looking-glass") {
				t.Fatalf("after the version check: %+v, %v; want the new password", got, err)
			}
		})
	}
}

// Copies read at the same moment do not all go stale at the same moment: a
// registration storm after a restart must not come back as a storm of
// credential queries one FreshMaxAge later.
func TestFreshCopiesSpread(t *testing.T) {
	g := newLastGood(2000, DefaultCacheMaxAge)
	t0 := time.Unix(1_800_000_000, 0)
	const n = 1000
	for i := range n {
		g.put(credKey{user: fmt.Sprint("u", i), domain: "example.com"}, auth.Credentials{}, t0, 7)
	}
	valid := func(age time.Duration) int {
		k := 0
		for i := range n {
			if _, ok := g.getAt(credKey{user: fmt.Sprint("u", i), domain: "example.com"}, 7, t0.Add(age), FreshMaxAge); ok {
				k++
			}
		}
		return k
	}
	if k := valid(FreshMaxAge/2 - time.Second); k != n {
		t.Errorf("%d of %d copies fresh just before FreshMaxAge/2, want all", k, n)
	}
	if k := valid(FreshMaxAge * 3 / 4); k < n/10 || k > n*9/10 {
		t.Errorf("%d of %d copies fresh at 3/4 FreshMaxAge, want a share between 10 and 90 %%: their ages must spread", k, n)
	}
	if k := valid(FreshMaxAge + time.Second); k != 0 {
		t.Errorf("%d copies fresh after FreshMaxAge, want none", k)
	}
}
