package main

import (
	"bufio"
	"context"
	"encoding/csv"
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

// userCmd runs `parley user add|list|del|passwd|import`. It opens the
// database the server uses (--db, or --config), migrating it if needed, so a
// user added while the server runs is seen by the server's next lookup.
// --password-stdin reads the password from the first line of standard
// input, so that it appears neither in the shell history nor in ps.
func userCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: parley user add|list|del|passwd|import [AOR|FILE] [--password PW | --password-stdin] [--db DSN] [--config FILE]")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("parley user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	password := fs.String("password", "", "the user's `PASSWORD` (add, passwd); visible to other local users in ps")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (add, passwd)")
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
	if *fromStdin {
		pw, err := passwordFrom(os.Stdin, *password != "")
		if err != nil {
			fmt.Fprintln(stderr, "parley:", err)
			return 2
		}
		*password = pw
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

// passwordFrom reads a password from the first line of r, without its line
// end. also says --password was given too, which is an error.
func passwordFrom(r io.Reader, also bool) (string, error) {
	if also {
		return "", errors.New("give --password or --password-stdin, not both")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("--password-stdin: standard input has no password")
	}
	return line, nil
}

// importLine is one user of an import file.
type importLine struct {
	line          int
	aor, password string
}

// importUsers adds the users of a file in SIPp's injection format: fields
// separated by ';', the user (user or user@domain) first and the password
// second; further fields are ignored. ',' is not a separator, so a password
// may hold one; a password holding ';' or '"' is written in double quotes
// with each '"' doubled, CSV style ("pa;ss", "say ""hi"""), and a bare '"'
// is an error (RFC 4180 with ';' for ','). A first line of one
// field SEQUENTIAL, RANDOM or USER (SIPp's header) and empty lines are
// skipped. A user without a domain gets the first --domain. The whole file
// is checked first: a malformed line, a bad address or a weak password is
// reported with its line number and nothing is added. Users that exist
// already are skipped.
func importUsers(ctx context.Context, st *users.Store, path string, domains []string, stdout, stderr io.Writer) int {
	list, err := readImport(path, domains)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	added, skipped := 0, 0
	for _, u := range list {
		switch err := st.Add(ctx, u.aor, u.password); {
		case err == nil:
			added++
		case errors.Is(err, users.ErrExists):
			skipped++
		default:
			fmt.Fprintf(stderr, "parley: %s:%d: %v\n", path, u.line, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "imported %d users (%d existed already)\n", added, skipped)
	return 0
}

// readImport parses and checks an import file (see importUsers).
func readImport(path string, domains []string) ([]importLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = ';', -1, true
	var list []importLine
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return list, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %w (quote a password holding ';' or '\"', doubling each '\"')", path, pe.StartLine, pe.Err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if first && len(rec) == 1 && sippHeader(rec[0]) {
			continue
		}
		u, err := importRecord(rec, line, domains)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		list = append(list, u)
	}
}

// importRecord checks one "user;password[;...]" record.
func importRecord(rec []string, line int, domains []string) (importLine, error) {
	if len(rec) < 2 || strings.TrimSpace(rec[0]) == "" || rec[1] == "" {
		return importLine{}, errors.New(`want "user;password" (SIPp's format; ',' is not a separator)`)
	}
	if strings.ContainsAny(rec[0]+rec[1], "\r\n") {
		return importLine{}, errors.New("a line break in a quoted user or password")
	}
	aor := strings.TrimSpace(rec[0])
	if !strings.Contains(aor, "@") {
		if len(domains) == 0 {
			return importLine{}, fmt.Errorf("%q has no domain and no --domain was given", aor)
		}
		aor += "@" + domains[0]
	}
	if err := users.Check(aor, rec[1]); err != nil {
		return importLine{}, err
	}
	return importLine{line: line, aor: aor, password: rec[1]}, nil
}

// sippHeader reports whether a line is SIPp's injection file header
// (SEQUENTIAL, RANDOM or USER, maybe with ",PRINTF=..." options).
func sippHeader(s string) bool {
	mode, _, _ := strings.Cut(strings.TrimSpace(s), ",")
	switch strings.ToUpper(mode) {
	case "SEQUENTIAL", "RANDOM", "USER":
		return true
	}
	return false
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
