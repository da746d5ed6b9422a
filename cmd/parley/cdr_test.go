package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/db"
)

// cdrTestDB is a SQLite database holding three calls, the last an hour ago.
func cdrTestDB(t *testing.T, now time.Time) string {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "parley.db")
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(h time.Duration) time.Time { return now.Add(-h).Truncate(time.Millisecond).UTC() }
	rs := []acc.Record{
		{ID: "c1", Caller: "alice@example.test", Callee: "bob@example.test", InviteAt: at(72 * time.Hour),
			AnswerAt: at(72*time.Hour - 2*time.Second), EndAt: at(72*time.Hour - 95*time.Second), Duration: 93.4,
			Code: 200, Reason: "OK", Disposition: acc.Answered, HangupBy: acc.ByCaller,
			Targets: []string{"sip:bob@192.0.2.9", "sip:bob@192.0.2.10"}},
		{ID: "c2", Caller: "bob@example.test", Callee: "carol@example.test", InviteAt: at(5 * time.Hour),
			EndAt: at(5*time.Hour - 9*time.Second), Code: 486, Reason: "Busy Here", Disposition: acc.Busy},
		{ID: "c3", Caller: "carol@example.test", Callee: "alice@example.test", FromName: `Carol "C", Jr`,
			InviteAt: at(time.Hour), Code: 487, Disposition: acc.Cancelled, Missed: true},
	}
	if err := acc.NewDBSink(d).Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func runCDR(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cdrCmd(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestCDRList(t *testing.T) {
	now := time.Now()
	dsn := cdrTestDB(t, now)
	t.Run("table", func(t *testing.T) {
		out, errOut, code := runCDR(t, "list", "--db", dsn)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("want a header and 3 rows:\n%s", out)
		}
		for i, want := range [][]string{
			{"INVITE", "CALLER", "CALLEE", "DISPOSITION", "CODE", "DURATION", "HANGUP_BY"},
			{"alice@example.test", "bob@example.test", "answered", "200", "1m33s", "caller"},
			{"bob@example.test", "carol@example.test", "busy", "486", "-", "-"},
			{"carol@example.test", "alice@example.test", "cancelled", "487", "-", "-"},
		} {
			fields := strings.Fields(lines[i])
			if i > 0 {
				fields = fields[1:] // the time
			}
			if strings.Join(fields, " ") != strings.Join(want, " ") {
				t.Errorf("line %d = %q, want %q", i, lines[i], want)
			}
		}
		if col := strings.Index(lines[0], "CALLEE"); strings.Index(lines[1], "bob@") != col {
			t.Errorf("columns are not aligned:\n%s", out)
		}
		if !strings.HasPrefix(lines[1], now.Add(-72*time.Hour).UTC().Format("2006-01-02T15")) {
			t.Errorf("row 1 does not start with the INVITE time: %q", lines[1])
		}
	})
	t.Run("json", func(t *testing.T) {
		out, errOut, code := runCDR(t, "list", "--db", dsn, "--json", "--user", "alice@example.test")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got []acc.Record
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var r acc.Record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %q", err, line)
			}
			got = append(got, r)
		}
		if len(got) != 2 || got[0].ID != "c1" || got[1].ID != "c3" || got[0].Duration != 93.4 || len(got[0].Targets) != 2 || !got[1].Missed {
			t.Errorf("--json --user alice = %+v", got)
		}
	})
	t.Run("csv", func(t *testing.T) {
		out, errOut, code := runCDR(t, "list", "--db", dsn, "--csv", "--since", "24h")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(cdrCSVHeader, ",") {
			t.Fatalf("--csv --since 24h:\n%s", out)
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		c2, c3 := rows[1], rows[2]
		if c2[col["id"]] != "c2" || c3[col["id"]] != "c3" || c3[col["from_name"]] != `Carol "C", Jr` ||
			c3[col["missed"]] != "true" || c3[col["end_at"]] != "" || c2[col["code"]] != "486" {
			t.Errorf("rows:\n%q\n%q", c2, c3)
		}
		if _, err := time.Parse(time.RFC3339, c2[col["invite_at"]]); err != nil {
			t.Errorf("invite_at: %v", err)
		}
	})
	t.Run("since RFC 3339 and limit", func(t *testing.T) {
		since := now.Add(-100 * time.Hour).UTC().Format(time.RFC3339)
		out, _, code := runCDR(t, "list", "--db", dsn, "--json", "--since", since, "--limit", "2")
		if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"id":"c2"`) || !strings.Contains(out, `"id":"c3"`) {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
}

func TestCDRListErrors(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "parley.db")
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", nil, "usage: parley cdr list"},
		{"unknown subcommand", []string{"show"}, "usage: parley cdr list"},
		{"bad since", []string{"list", "--db", dsn, "--since", "yesterday"}, `--since "yesterday"`},
		{"json and csv", []string{"list", "--db", dsn, "--json", "--csv"}, "not both"},
		{"negative limit", []string{"list", "--db", dsn, "--limit", "-1"}, "--limit"},
		{"bad db", []string{"list", "--db", "oracle://x"}, "db"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCDR(t, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.wantErr)
			}
		})
	}
	if out, errOut, code := runCDR(t, "list", "--db", dsn); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("empty database: exit %d, %q %q; want only the header", code, out, errOut)
	}
}

func TestCDRQuerySince(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	q, err := cdrQuery("90m", "", 0, now)
	if err != nil || !q.Since.Equal(now.Add(-90*time.Minute)) {
		t.Errorf("90m: %v, %v", q.Since, err)
	}
	q, err = cdrQuery("2025-05-31T08:00:00+02:00", "", 0, now)
	if err != nil || !q.Since.Equal(time.Date(2025, 5, 31, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339: %v, %v", q.Since, err)
	}
	if _, err := cdrQuery("-1h", "", 0, now); err == nil {
		t.Error("a negative duration was accepted")
	}
}
