package users

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// forEachDB runs fn against a fresh, migrated database of every dialect
// (PostgreSQL and MySQL only when their PARLEY_TEST_* variable is set).
func forEachDB(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { fn(t, dbtest.Open(t, dialect)) })
	}
}

func hexMD5(s string) string    { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func hexSHA256(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestAddGetCredentials(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		before := time.Now().Add(-time.Second)
		if err := s.Add(ctx, "alice@Example.COM", "wonderland"); err != nil {
			t.Fatal(err)
		}
		u, err := s.Get(ctx, "sip:alice@example.com")
		if err != nil || u.Username != "alice" || u.Domain != "example.com" || u.CreatedAt.Before(before) || u.CreatedAt.After(time.Now()) {
			t.Fatalf("Get = %+v, %v", u, err)
		}
		c, err := s.Credentials(ctx, "alice", "EXAMPLE.com")
		want := auth.Credentials{Username: "alice", Domain: "example.com",
			HA1MD5: hexMD5("alice:example.com:wonderland"), HA1SHA256: hexSHA256("alice:example.com:wonderland")}
		if err != nil || c != want {
			t.Fatalf("Credentials = %+v, %v\nwant %+v", c, err, want)
		}
		for _, q := range [][2]string{{"bob", "example.com"}, {"alice", "example.org"}, {"ALICE", "example.com"}, {"alice ", "example.com"}, {"", ""}} {
			if _, err := s.Credentials(ctx, q[0], q[1]); !errors.Is(err, auth.ErrUnknownUser) {
				t.Errorf("Credentials(%q, %q) = %v, want ErrUnknownUser", q[0], q[1], err)
			}
		}
		if _, err := s.Get(ctx, "Alice@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get with other case: %v, want ErrNotFound", err)
		}
	})
}

func TestAddErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		if err := s.Add(ctx, "alice@example.com", "wonderland"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			aor, pw string
			want    error
		}{
			{"alice@example.com", "another1", ErrExists},
			{"alice@EXAMPLE.COM", "another1", ErrExists},
			{"bob@example.com", "", ErrWeakPassword},
			{"bob@example.com", "12345", ErrWeakPassword},
			{"bob@example.com", "Bob", ErrWeakPassword},
			{"bobby1@example.com", "bobby1", ErrWeakPassword},
			{"bob", "builder1", ErrBadAOR},
			{"bo b@example.com", "builder1", ErrBadAOR},
			{"bob@exa mple.com", "builder1", ErrBadAOR},
		}
		for _, tt := range tests {
			if err := s.Add(ctx, tt.aor, tt.pw); !errors.Is(err, tt.want) {
				t.Errorf("Add(%q, %q) = %v, want %v", tt.aor, tt.pw, err, tt.want)
			}
		}
		if _, n, _ := s.List(ctx, 0, 0); n != 1 {
			t.Errorf("%d users after failed adds, want 1", n)
		}
	})
}

// TestCase: users are case-sensitive in SIP. On MySQL's case-insensitive
// collation a second user differing only in case cannot be added (ErrExists);
// lookups stay exact everywhere.
func TestCase(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		if err := s.Add(ctx, "Alice@example.com", "wonderland"); err != nil {
			t.Fatal(err)
		}
		err := s.Add(ctx, "alice@example.com", "looking-glass")
		if d.Dialect == db.MySQL {
			if !errors.Is(err, ErrExists) {
				t.Fatalf("MySQL: second Add = %v, want ErrExists", err)
			}
		} else if err != nil {
			t.Fatalf("Add alice next to Alice: %v", err)
		}
		c, err := s.Credentials(ctx, "Alice", "example.com")
		if err != nil || c.Username != "Alice" || c.HA1MD5 != hexMD5("Alice:example.com:wonderland") {
			t.Fatalf("Alice: %+v, %v", c, err)
		}
		if err := s.Delete(ctx, "ALICE@example.com"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Delete ALICE = %v, want ErrNotFound", err)
		}
	})
}

func TestDeleteSetPassword(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		if err := s.Add(ctx, "bob@example.com", "builder1"); err != nil {
			t.Fatal(err)
		}
		for i := range 2 { // the second time nothing changes (MySQL: 0 rows affected)
			if err := s.SetPassword(ctx, "bob@example.com", "new-secret"); err != nil {
				t.Fatalf("SetPassword %d: %v", i, err)
			}
		}
		c, _ := s.Credentials(ctx, "bob", "example.com")
		if c.HA1SHA256 != hexSHA256("bob:example.com:new-secret") || c.HA1MD5 != hexMD5("bob:example.com:new-secret") {
			t.Fatalf("HA1 not updated: %+v", c)
		}
		if err := s.SetPassword(ctx, "bob@example.com", "bob"); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("weak SetPassword = %v", err)
		}
		if err := s.SetPassword(ctx, "nobody@example.com", "whatever1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetPassword of a missing user = %v", err)
		}
		if err := s.Delete(ctx, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "bob@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Delete = %v", err)
		}
		if _, err := s.Credentials(ctx, "bob", "example.com"); !errors.Is(err, auth.ErrUnknownUser) {
			t.Errorf("Credentials after Delete = %v", err)
		}
		if err := s.Delete(ctx, "not an aor"); !errors.Is(err, ErrBadAOR) {
			t.Errorf("Delete(bad) = %v", err)
		}
	})
}

func TestList(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		if l, n, err := s.List(ctx, 0, 10); err != nil || n != 0 || l == nil || len(l) != 0 {
			t.Fatalf("empty List = %v, %d, %v", l, n, err)
		}
		for _, aor := range []string{"carol@example.org", "bob@example.com", "dave@example.org", "alice@example.com", "erin@example.net"} {
			if err := s.Add(ctx, aor, "password1"); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"alice@example.com", "bob@example.com", "erin@example.net", "carol@example.org", "dave@example.org"}
		tests := []struct{ offset, limit, from, to int }{
			{0, 0, 0, 5}, {0, 2, 0, 2}, {2, 2, 2, 4}, {4, 10, 4, 5}, {9, 10, 5, 5}, {-3, 1, 0, 1},
		}
		for _, tt := range tests {
			l, n, err := s.List(ctx, tt.offset, tt.limit)
			if err != nil || n != 5 {
				t.Fatalf("List(%d, %d): total %d, %v", tt.offset, tt.limit, n, err)
			}
			var got []string
			for _, u := range l {
				got = append(got, u.AOR())
			}
			if strings.Join(got, " ") != strings.Join(want[tt.from:tt.to], " ") {
				t.Errorf("List(%d, %d) = %v, want %v", tt.offset, tt.limit, got, want[tt.from:tt.to])
			}
		}
	})
}

// TestPasswordNeverStored reads back every column of every row.
func TestPasswordNeverStored(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		const pw1, pw2 = "Secret-Passw0rd", "Other-Passw0rd"
		if err := s.Add(ctx, "alice@example.com", pw1); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, "bob@example.com", pw1); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPassword(ctx, "bob@example.com", pw2); err != nil {
			t.Fatal(err)
		}
		rows, err := d.QueryContext(ctx, "SELECT * FROM users")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				low := strings.ToLower(string(v))
				for _, pw := range []string{pw1, pw2} {
					if strings.Contains(low, strings.ToLower(pw)) || strings.Contains(low, hex.EncodeToString([]byte(pw))) {
						t.Errorf("column %s holds the password: %q", cols[i], v)
					}
				}
			}
			n++
		}
		if n != 2 || len(cols) != 5 {
			t.Fatalf("read %d rows of %d columns", n, len(cols))
		}
	})
}

// TestChangesElsewhere: a user added through another connection (another
// process running `parley user add`) is seen at once (unknown users are
// never remembered); a password change or a deletion there is seen within
// VersionCheckInterval.
func TestChangesElsewhere(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := dbtest.DSN(t, dialect)
			open := func() *db.DB {
				d, err := db.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			server, cli := open(), open()
			if err := server.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			srv, admin := New(server), New(cli)
			now := time.Now()
			srv.now = func() time.Time { return now }
			if _, err := srv.Credentials(ctx, "alice", "example.com"); !errors.Is(err, auth.ErrUnknownUser) {
				t.Fatalf("before add: %v", err)
			}
			steps := []struct {
				do   func() error
				want string // HA1 MD5, "" for unknown
			}{
				{func() error { return admin.Add(ctx, "alice@example.com", "wonderland") }, hexMD5("alice:example.com:wonderland")},
				{func() error { return admin.SetPassword(ctx, "alice@example.com", "rabbit-hole") }, hexMD5("alice:example.com:rabbit-hole")},
				{func() error { return admin.Delete(ctx, "alice@example.com") }, ""},
			}
			for i, st := range steps {
				if err := st.do(); err != nil {
					t.Fatal(err)
				}
				if i > 0 {
					now = now.Add(VersionCheckInterval)
				}
				c, err := srv.Credentials(ctx, "alice", "example.com")
				if st.want == "" && !errors.Is(err, auth.ErrUnknownUser) || st.want != "" && c.HA1MD5 != st.want {
					t.Fatalf("step %d: %+v, %v", i, c, err)
				}
			}
		})
	}
}

// TestDigestWithStore checks that the stored HA1 answers a digest computed by
// a client from the password, realm = domain.
func TestDigestWithStore(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	s := New(d)
	ctx := context.Background()
	if err := s.Add(ctx, "j%C3%BCrgen@example.com", "zanzibar"); err != nil {
		t.Fatal(err)
	}
	c, err := s.Credentials(ctx, "jürgen", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []auth.Algorithm{auth.MD5, auth.SHA256} {
		ha1 := hexMD5("jürgen:example.com:zanzibar")
		stored := c.HA1MD5
		if alg == auth.SHA256 {
			ha1, stored = hexSHA256("jürgen:example.com:zanzibar"), c.HA1SHA256
		}
		r := &auth.Response{Username: "jürgen", Realm: "example.com", Nonce: "n", URI: "sip:example.com",
			Algorithm: alg, QOP: "auth", NC: "00000001", CNonce: "c"}
		r.Response = auth.RequestDigest(alg, ha1, r.Nonce, r.NC, r.CNonce, r.QOP, "REGISTER", r.URI)
		if !r.Verify(stored, "REGISTER") {
			t.Errorf("%v: stored HA1 does not verify the client's digest", alg)
		}
	}
}

func TestStoreErrors(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	s := New(d)
	d.Close() // the database is gone: errors, not ErrUnknownUser
	ctx := context.Background()
	if _, err := s.Credentials(ctx, "alice", "example.com"); err == nil || errors.Is(err, auth.ErrUnknownUser) {
		t.Errorf("Credentials on a closed database: %v", err)
	}
	for name, err := range map[string]error{
		"Add":         s.Add(ctx, "alice@example.com", "wonderland"),
		"Delete":      s.Delete(ctx, "alice@example.com"),
		"SetPassword": s.SetPassword(ctx, "alice@example.com", "wonderland"),
	} {
		if err == nil || errors.Is(err, ErrExists) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a closed database: %v", name, err)
		}
	}
	if _, _, err := s.List(ctx, 0, 0); err == nil {
		t.Error("List on a closed database succeeded")
	}
}
