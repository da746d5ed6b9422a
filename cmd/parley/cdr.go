package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
)

const cdrUsage = "usage: parley cdr list [--since TIME] [--user AOR] [--json|--csv] [--limit N] [--db DSN] [--config FILE]"

// cdrCmd runs `parley cdr list`: the call records in the database the server
// uses (--db, or --config), oldest first, as a table, JSON lines or CSV.
func cdrCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, cdrUsage)
		return 2
	}
	fs := flag.NewFlagSet("parley cdr list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	since := fs.String("since", "", "calls since `TIME`: RFC 3339 (2025-06-01T08:00:00Z) or a duration ago (24h)")
	user := fs.String("user", "", "calls from or to `AOR` (user@domain)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	asCSV := fs.Bool("csv", false, "print CSV with a header row")
	limit := fs.Int("limit", 100, "print the newest `N` calls (0 for all)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := flags.Load()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	q, err := cdrQuery(*since, *user, *limit, time.Now())
	if err == nil && *asJSON && *asCSV {
		err = fmt.Errorf("give --json or --csv, not both")
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	rs, err := cdrList(cfg.DB, q)
	if err == nil {
		err = cdrPrint(stdout, rs, *asJSON, *asCSV)
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	return 0
}

// cdrQuery builds the query from the flags; since is "" for no bound, an RFC
// 3339 time, or a duration meaning that long before now.
func cdrQuery(since, user string, limit int, now time.Time) (acc.ListQuery, error) {
	q := acc.ListQuery{User: user, Limit: limit}
	if limit < 0 {
		return q, fmt.Errorf("--limit %d: want 0 (all) or more", limit)
	}
	if since == "" {
		return q, nil
	}
	if t, err := time.Parse(time.RFC3339, since); err == nil {
		q.Since = t
		return q, nil
	}
	if d, err := time.ParseDuration(since); err == nil && d >= 0 {
		q.Since = now.Add(-d)
		return q, nil
	}
	return q, fmt.Errorf("--since %q: want an RFC 3339 time (2025-06-01T08:00:00Z) or a duration (24h)", since)
}

// cdrList opens (and migrates, as `parley user` does) the database and queries it.
func cdrList(dsn string, q acc.ListQuery) ([]acc.Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	return acc.Query(ctx, d, q)
}

func cdrPrint(w io.Writer, rs []acc.Record, asJSON, asCSV bool) error {
	switch {
	case asJSON:
		return cdrJSON(w, rs)
	case asCSV:
		return cdrCSV(w, rs)
	}
	return cdrTable(w, rs)
}

// cdrJSON writes one json.Marshal(Record) per line, as the CDR file has them.
func cdrJSON(w io.Writer, rs []acc.Record) error {
	for _, r := range rs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", line); err != nil {
			return err
		}
	}
	return nil
}

// cdrTable writes an aligned table of the fields an operator looks at first.
func cdrTable(w io.Writer, rs []acc.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INVITE\tCALLER\tCALLEE\tDISPOSITION\tCODE\tDURATION\tHANGUP_BY")
	for _, r := range rs {
		dur := "-"
		if r.Disposition == acc.Answered {
			dur = time.Duration(r.Duration * float64(time.Second)).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", cdrDash(cdrStamp(r.InviteAt, time.RFC3339)), cdrDash(r.Caller),
			cdrDash(r.Callee), cdrDash(string(r.Disposition)), r.Code, dur, cdrDash(string(r.HangupBy)))
	}
	return tw.Flush()
}

func cdrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cdrCSVHeader names every Record field, as its JSON key.
var cdrCSVHeader = []string{"id", "call_id", "from_uri", "from_name", "to_uri", "request_uri", "caller", "callee",
	"source", "transport", "invite_at", "ring_at", "answer_at", "end_at", "duration", "code", "reason",
	"disposition", "missed", "hangup_by", "targets", "referred_by", "transfer_to"}

// cdrCSV writes every field: times in RFC 3339 with milliseconds (empty
// when the event did not happen), targets separated by spaces.
func cdrCSV(w io.Writer, rs []acc.Record) error {
	cw := csv.NewWriter(w)
	cw.Write(cdrCSVHeader)
	const ms = "2006-01-02T15:04:05.000Z07:00"
	for _, r := range rs {
		cw.Write([]string{r.ID, r.CallID, r.FromURI, r.FromName, r.ToURI, r.RequestURI, r.Caller, r.Callee,
			r.Source, r.Transport, cdrStamp(r.InviteAt, ms), cdrStamp(r.RingAt, ms), cdrStamp(r.AnswerAt, ms),
			cdrStamp(r.EndAt, ms), strconv.FormatFloat(r.Duration, 'f', -1, 64), strconv.Itoa(r.Code), r.Reason,
			string(r.Disposition), strconv.FormatBool(r.Missed), string(r.HangupBy), strings.Join(r.Targets, " "),
			r.ReferredBy, r.TransferTo})
	}
	cw.Flush()
	return cw.Error()
}

// cdrStamp formats t in UTC, or "" for the zero time.
func cdrStamp(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}
