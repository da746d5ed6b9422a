package test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/users"
)

// End-to-end tests of `parley user add|list|passwd|del|import` through the
// built binary, on an SQLite file, alone and while a server uses the file.

// userRun is the outcome of one `parley user` command.
type userRun struct {
	code           int
	stdout, stderr string
}

// parleyUser runs `parley user args...` with a 30 s bound.
func parleyUser(t *testing.T, args ...string) userRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildParley(t), append([]string{"user"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := userRun{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("parley user %v: %v", args, err)
	}
	return r
}

// userIn runs `parley user args...` with stdin as standard input, expecting exit code.
func userIn(t *testing.T, stdin string, code int, args ...string) userRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildParley(t), append([]string{"user"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	r := userRun{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("parley user %v: %v", args, err)
	}
	if r.code != code {
		t.Fatalf("parley user %v: exit %d, want %d\nstderr: %s", args, r.code, code, r.stderr)
	}
	return r
}

// wantPassword checks that the database dsn holds for aor the HA1 values of
// password, computed here from scratch (RFC 7616 §3.4.2, realm = domain).
func wantPassword(t *testing.T, dsn, aor, password string) {
	t.Helper()
	user, domain, _ := strings.Cut(aor, "@")
	c, err := users.New(openDB(t, dsn)).Credentials(context.Background(), user, domain)
	if err != nil {
		t.Fatalf("%s: %v", aor, err)
	}
	if c.HA1MD5 != digestHash("MD5", user+":"+domain+":"+password) ||
		c.HA1SHA256 != digestHash("SHA-256", user+":"+domain+":"+password) {
		t.Errorf("%s: the stored HA1 is not that of the password %q", aor, password)
	}
}

// userOK runs a command that must succeed and returns its output.
func userOK(t *testing.T, args ...string) string {
	t.Helper()
	r := parleyUser(t, args...)
	if r.code != 0 {
		t.Fatalf("parley user %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// userFails runs a command that must exit non-zero with a message matching re on stderr.
func userFails(t *testing.T, re string, args ...string) {
	t.Helper()
	r := parleyUser(t, args...)
	if r.code == 0 || !regexpMatch(re, r.stderr) {
		t.Errorf("parley user %v: exit %d, stderr %q; want non-zero and a message matching %q", args, r.code, r.stderr, re)
	}
}

// TestUserCommand: add, list, passwd, del and import on an SQLite file, and
// their refusals: weak or empty password, malformed AOR, duplicate, unknown user.
func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	dbArg := "--db=sqlite:" + filepath.Join(dir, "u.db")
	if out := userOK(t, "add", "alice@example.test", "--password", testPassword, dbArg); !strings.Contains(out, "added alice@example.test") {
		t.Errorf("add printed %q", out)
	}
	userOK(t, "add", "sip:Bob@Example.TEST", "--password", testPassword, dbArg)
	out := userOK(t, "list", dbArg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "Bob@example.test\t") || !strings.HasPrefix(lines[1], "alice@example.test\t") {
		t.Errorf("list printed %q, want Bob@example.test then alice@example.test (domain lowercased, user as given)", out)
	}

	t.Run("bad_input", func(t *testing.T) {
		userFails(t, `(?i)weak password.*empty`, "add", "carol@example.test", "--password", "", dbArg)
		userFails(t, `(?i)weak password`, "add", "carol@example.test", dbArg)
		userFails(t, `(?i)weak password.*shorter`, "add", "carol@example.test", "--password", "abc", dbArg)
		userFails(t, `(?i)weak password.*user name`, "add", "caroline@example.test", "--password", "Caroline", dbArg)
		userFails(t, `(?i)weak password.*user name`, "add", "carolyn@example.test", "--password", "CAROLYN@example.test", dbArg)
		for _, aor := range []string{"carol", "@example.test", "carol@", "ca rol@example.test", "carol@exa_mple..test", "carol@@example.test"} {
			userFails(t, `(?i)bad address of record`, "add", aor, "--password", testPassword, dbArg)
		}
		userFails(t, `(?i)already exists`, "add", "alice@example.test", "--password", "another-pw", dbArg)
		userFails(t, `(?i)user@domain`, "add", "--password", testPassword, dbArg)
		userFails(t, `(?i)not found`, "passwd", "nobody@example.test", "--password", testPassword, dbArg)
		userFails(t, `(?i)weak password`, "passwd", "alice@example.test", "--password", "x", dbArg)
		userFails(t, `(?i)not found`, "del", "nobody@example.test", dbArg)
		userFails(t, `(?i)unknown user command`, "frobnicate", dbArg)
		if out := userOK(t, "list", dbArg); strings.Count(out, "\n") != 2 {
			t.Errorf("refused commands changed the users:\n%s", out)
		}
	})

	t.Run("passwd_del", func(t *testing.T) {
		userOK(t, "passwd", "alice@example.test", "--password", "new-"+testPassword, dbArg)
		if out := userOK(t, "del", "sip:Bob@example.test", dbArg); !strings.Contains(out, "deleted") {
			t.Errorf("del printed %q", out)
		}
		if out := userOK(t, "list", dbArg); strings.Contains(out, "Bob@") || !strings.Contains(out, "alice@") {
			t.Errorf("after del: %q", out)
		}
	})

	t.Run("import", func(t *testing.T) {
		file := filepath.Join(dir, "users.csv")
		writeFile(t, file, "SEQUENTIAL\nuser1;pass-word-1;[authentication username=user1 password=pass-word-1]\n"+
			"user2@other.test;pass-word-2\n\nalice@example.test;whatever-pw\n")
		if out := userOK(t, "import", file, "--domain", "example.test", dbArg); !strings.Contains(out, "imported 2 users (1 existed already)") {
			t.Errorf("import printed %q", out)
		}
		if out := userOK(t, "import", file, "--domain", "example.test", dbArg); !strings.Contains(out, "imported 0 users (3 existed already)") {
			t.Errorf("second import printed %q", out)
		}
		out := userOK(t, "list", dbArg)
		for _, want := range []string{"user1@example.test\t", "user2@other.test\t", "alice@example.test\t"} {
			if !strings.Contains(out, want) {
				t.Errorf("list after import lacks %q:\n%s", want, out)
			}
		}
		writeFile(t, file, "nodomain;pass-word-3\n")
		userFails(t, `(?i)no domain`, "import", file, dbArg)
		writeFile(t, file, "bad user@example.test;pass-word-3\n")
		userFails(t, `users.csv:1: .*bad address of record`, "import", file, dbArg)
		// A malformed line anywhere is reported with its number, and nothing is added.
		for _, bad := range []struct{ text, re string }{
			{"ok1@example.test;pass-word-4\nuser3,pass-word-3\n", `users.csv:2: .*user;password`},
			{"ok1@example.test;pass-word-4\n\nuser3;\n", `users.csv:3: .*user;password`},
			{"ok1@example.test;pass-word-4\nweak@example.test;abc\n", `users.csv:2: .*weak password`},
			{"ok1@example.test;pass-word-4\nq@example.test;\"pass-word-4\n", `users.csv:2.*quote`},
			{"ok1@example.test;pass-word-4\nq@example.test;say \"hi\" 7\n", `users.csv:2.*quote`},
			{"ok1@example.test;pass-word-4\nq@example.test;\"two\nlines\"\n", `users.csv:2: .*line break`},
		} {
			writeFile(t, file, bad.text)
			userFails(t, bad.re, "import", file, dbArg)
		}
		if out := userOK(t, "list", dbArg); strings.Contains(out, "ok1@") {
			t.Errorf("a refused import added users:\n%s", out)
		}
		userFails(t, `(?i)no such file`, "import", filepath.Join(dir, "missing.csv"), dbArg)
	})

	// SIPp's format: ';' separates, ',' does not; a password with ';' is quoted.
	t.Run("import_passwords_with_separators", func(t *testing.T) {
		file := filepath.Join(dir, "sep.csv")
		want := map[string]string{
			"comma@example.test":  "pass,word,5",
			"semi@example.test":   "pass;word;6",
			"quote@example.test":  `"say "hi" 7`,
			"spaces@example.test": " pass word 8 ",
		}
		writeFile(t, file, "SEQUENTIAL,PRINTF=2\r\ncomma@example.test;pass,word,5;[authentication]\r\n"+
			"semi@example.test;\"pass;word;6\"\nquote@example.test;\"\"\"say \"\"hi\"\" 7\"\nspaces@example.test; pass word 8 \n")
		if out := userOK(t, "import", file, dbArg); !strings.Contains(out, "imported 4 users") {
			t.Fatalf("import printed %q", out)
		}
		for aor, pw := range want {
			wantPassword(t, "sqlite:"+filepath.Join(dir, "u.db"), aor, pw)
		}
	})

	// --password-stdin keeps the password off the command line.
	t.Run("password_stdin", func(t *testing.T) {
		dsn := "sqlite:" + filepath.Join(dir, "u.db")
		userIn(t, "s3cret; with, separators\n", 0, "add", "dave@example.test", "--password-stdin", dbArg)
		wantPassword(t, dsn, "dave@example.test", "s3cret; with, separators")
		userIn(t, "changed-pw-9\r\n", 0, "passwd", "dave@example.test", "--password-stdin", dbArg)
		wantPassword(t, dsn, "dave@example.test", "changed-pw-9")
		if r := userIn(t, "", 2, "passwd", "dave@example.test", "--password-stdin", dbArg); !regexpMatch(`(?i)no password`, r.stderr) {
			t.Errorf("empty standard input: stderr %q", r.stderr)
		}
		if r := userIn(t, "x-pw-12345\n", 2, "passwd", "dave@example.test", "--password-stdin", "--password", "y-pw-12345", dbArg); !regexpMatch(`not both`, r.stderr) {
			t.Errorf("both flags: stderr %q", r.stderr)
		}
		if r := userIn(t, "abc\n", 1, "passwd", "dave@example.test", "--password-stdin", dbArg); !regexpMatch(`(?i)weak password`, r.stderr) {
			t.Errorf("weak password on stdin: stderr %q", r.stderr)
		}
		wantPassword(t, dsn, "dave@example.test", "changed-pw-9")
	})
}

// TestUserChangesTakeEffectAtOnce: users added by the binary in another
// process, on the SQLite file the server is using, count for the server's
// next REGISTER without a restart; a password change or a deletion counts
// within users.VersionCheckInterval (users/doc.go).
func TestUserChangesTakeEffectAtOnce(t *testing.T) {
	cfg := testConfig(t, "")
	s, _ := runApp(t, cfg, nil)
	dbArg := "--db=" + cfg.DB
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			c := dial(t, s, tr)
			aor := "carol-" + tr + "@example.test"
			user, _, _ := strings.Cut(aor, "@")
			uri := contact("sip:"+user+"@192.0.2.1:5060", "")
			if resp := newRegisterer(c, user).register(t, uri); statusCode(resp) != 403 {
				t.Fatalf("before add: want 403, got\n%s", resp)
			}
			userOK(t, "add", aor, "--password", testPassword, dbArg)
			r := newRegisterer(c, user)
			r.mustRegister(t, uri)

			userOK(t, "passwd", aor, "--password", "changed-pw", dbArg)
			refusedWithin(t, "old password after passwd", func() string {
				r.nonce = "" // a fresh challenge, as a phone re-registering
				return r.register(t, uri)
			})
			r = newRegisterer(c, user)
			r.pw = "changed-pw"
			r.mustRegister(t, uri)

			userOK(t, "del", aor, dbArg)
			r = newRegisterer(c, user)
			r.pw = "changed-pw"
			refusedWithin(t, "after del", func() string {
				r.nonce = ""
				return r.register(t, uri)
			})
		})
	}
}

// refusedWithin registers again until the answer is 403, for at most
// users.VersionCheckInterval plus a margin.
func refusedWithin(t *testing.T, what string, register func() string) {
	t.Helper()
	deadline := time.Now().Add(users.VersionCheckInterval + 2*time.Second)
	for {
		resp := register()
		if statusCode(resp) == 403 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want 403 within %v, got\n%s", what, users.VersionCheckInterval, resp)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
