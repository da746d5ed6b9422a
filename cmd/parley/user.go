package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/users"
)

// userCmd runs `parley user add|list|del|passwd`. It opens the database the
// server uses (--db, or --config), migrating it if needed, so a user added while
// the server runs is seen by the server's next lookup.
func userCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: parley user add|list|del|passwd|import [AOR|FILE] [--password PW] [--db DSN] [--config FILE]")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("parley user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	password := fs.String("password", "", "the user's `PASSWORD` (add, passwd)")
	aor, rest := "", args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		aor, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if aor == "" && fs.NArg() > 0 {
		aor = fs.Arg(0)
	}
	cfg, err := flags.Load()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, cfg.DB)
	if err == nil {
		defer d.Close()
		err = d.Migrate(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	if sub == "import" {
		return importUsers(ctx, users.New(d), aor, cfg.Domain, stdout, stderr)
	}
	return runUser(ctx, users.New(d), sub, aor, *password, stdout, stderr)
}

// importUsers adds users from a file with one "user[@domain];password" (or
// "user[@domain],password") per line, as SIPp's injection CSV has them. A user
// without a domain gets the first --domain. Lines without a separator (such as
// SIPp's SEQUENTIAL header) and users that exist already are skipped.
func importUsers(ctx context.Context, st *users.Store, path string, domains []string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	added, skipped := 0, 0
	for n, line := range strings.Split(string(data), "\n") {
		fields := strings.FieldsFunc(strings.TrimSpace(line), func(r rune) bool { return r == ';' || r == ',' })
		if len(fields) < 2 {
			continue
		}
		aor := fields[0]
		if !strings.Contains(aor, "@") {
			if len(domains) == 0 {
				fmt.Fprintf(stderr, "parley: %s:%d: %q has no domain and no --domain was given\n", path, n+1, aor)
				return 1
			}
			aor += "@" + domains[0]
		}
		switch err := st.Add(ctx, aor, fields[1]); {
		case err == nil:
			added++
		case errors.Is(err, users.ErrExists):
			skipped++
		default:
			fmt.Fprintf(stderr, "parley: %s:%d: %v\n", path, n+1, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "imported %d users (%d existed already)\n", added, skipped)
	return 0
}

func runUser(ctx context.Context, st *users.Store, sub, aor, password string, stdout, stderr io.Writer) int {
	var err error
	switch sub {
	case "add":
		err = needAOR(aor)
		if err == nil {
			err = st.Add(ctx, aor, password)
		}
		if err == nil {
			fmt.Fprintf(stdout, "added %s\n", aor)
		}
	case "passwd":
		err = needAOR(aor)
		if err == nil {
			err = st.SetPassword(ctx, aor, password)
		}
		if err == nil {
			fmt.Fprintf(stdout, "password of %s changed\n", aor)
		}
	case "del":
		err = needAOR(aor)
		if err == nil {
			err = st.Delete(ctx, aor)
		}
		if err == nil {
			fmt.Fprintf(stdout, "deleted %s\n", aor)
		}
	case "list":
		var us []users.User
		us, _, err = st.List(ctx, 0, 0)
		for _, u := range us {
			fmt.Fprintf(stdout, "%s@%s\t%s\n", u.Username, u.Domain, u.CreatedAt.UTC().Format(time.RFC3339))
		}
	default:
		err = fmt.Errorf("unknown user command %q (add, list, del, passwd)", sub)
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	return 0
}

func needAOR(aor string) error {
	if aor == "" {
		return errors.New("give the user as user@domain")
	}
	return nil
}
