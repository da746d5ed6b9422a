package acc_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// t0 is a whole millisecond, in UTC, as records come back from the database.
var t0 = time.UnixMilli(1_700_000_000_123).UTC()

// fullRecord has every field set.
func fullRecord(id string, at time.Time) acc.Record {
	return acc.Record{ID: id, CallID: "a84b4c76e66710@pc33.example.test", FromURI: "sip:alice@example.test;transport=tcp",
		FromName: "Alice Liddell", ToURI: "sip:bob@example.test", RequestURI: "sip:bob@example.test",
		Caller: "alice@example.test", Callee: "bob@example.test", Source: "[2001:db8::4]:5060", Transport: "tcp",
		InviteAt: at, RingAt: at.Add(time.Second), AnswerAt: at.Add(3 * time.Second), EndAt: at.Add(63500 * time.Millisecond),
		Duration: 60.5, Code: 200, Reason: "OK", Disposition: acc.Answered, Missed: true, HangupBy: acc.ByCallee,
		Targets:    []string{"sip:bob@192.0.2.9:5060;ob", "sip:bob@[2001:db8::9]:5062;transport=tls"},
		ReferredBy: "<sip:carol@example.test>", TransferTo: "<sip:dave@example.test?Replaces=x>"}
}

func writeRecords(t *testing.T, s acc.Sink, rs ...acc.Record) {
	t.Helper()
	if err := s.Write(context.Background(), rs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func query(t *testing.T, d *db.DB, q acc.ListQuery) []acc.Record {
	t.Helper()
	rs, err := acc.Query(context.Background(), d, q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return rs
}

func ids(rs []acc.Record) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return strings.Join(out, ",")
}

func TestDBSink(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			d := dbtest.Open(t, dialect)
			t.Run("round trip", func(t *testing.T) { testRoundTrip(t, d) })
			t.Run("idempotent", func(t *testing.T) { testIdempotent(t, d) })
			t.Run("query", func(t *testing.T) { testQuery(t, d) })
			t.Run("unstorable text", func(t *testing.T) { testUnstorable(t, d) })
			t.Run("through a writer", func(t *testing.T) { testDBWriter(t, d) })
		})
	}
}

func testRoundTrip(t *testing.T, d *db.DB) {
	s := acc.NewDBSink(d)
	full := fullRecord("full", t0)
	bare := acc.Record{ID: "bare", Caller: "x@example.test", InviteAt: t0.Add(time.Minute), Code: 404,
		Disposition: acc.Failed} // zero times, no targets
	writeRecords(t, s, full, bare)
	got := query(t, d, acc.ListQuery{User: "x@example.test"})
	if len(got) != 1 || !reflect.DeepEqual(got[0], bare) {
		t.Errorf("bare record came back as %+v, want %+v", got, bare)
	}
	got = query(t, d, acc.ListQuery{User: "alice@example.test"})
	if len(got) != 1 || !reflect.DeepEqual(got[0], full) {
		t.Errorf("full record came back as\n%+v\nwant\n%+v", got, full)
	}
	var inviteAt, ringAt int64
	if err := d.QueryRow(d.Rebind("SELECT invite_at, ring_at FROM cdr WHERE id = ?"), "bare").Scan(&inviteAt, &ringAt); err != nil {
		t.Fatal(err)
	}
	if inviteAt != t0.Add(time.Minute).UnixMilli() || ringAt != 0 {
		t.Errorf("stored invite_at %d, ring_at %d; want Unix ms and 0", inviteAt, ringAt)
	}
	if !strings.HasPrefix(s.Name(), "db:") {
		t.Errorf("Name = %q", s.Name())
	}
}

func testIdempotent(t *testing.T, d *db.DB) {
	s := acc.NewDBSink(d)
	var batch []acc.Record
	for i := range 250 { // more than one INSERT statement's worth
		batch = append(batch, fullRecord("idem"+string(rune('A'+i/26))+string(rune('a'+i%26)), t0.Add(time.Hour)))
	}
	writeRecords(t, s, batch[:130]...) // a batch that "failed" after its first part
	writeRecords(t, s, batch...)       // retried whole
	writeRecords(t, s, batch...)       // and once more
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM cdr WHERE id LIKE 'idem%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(batch) {
		t.Errorf("%d rows after retries, want %d", n, len(batch))
	}
}

func testQuery(t *testing.T, d *db.DB) {
	base := t0.Add(24 * time.Hour)
	s := acc.NewDBSink(d)
	mk := func(id, caller, callee string, minutes int) acc.Record {
		return acc.Record{ID: id, Caller: caller, Callee: callee, InviteAt: base.Add(time.Duration(minutes) * time.Minute)}
	}
	// Written out of order: Query sorts by invite_at.
	writeRecords(t, s, mk("q3", "carol@q.test", "alice@q.test", 3), mk("q1", "alice@q.test", "bob@q.test", 1),
		mk("q2", "bob@q.test", "carol@q.test", 2), mk("q4", "bob@q.test", "alice@q.test", 4))
	tests := []struct {
		name string
		q    acc.ListQuery
		want string
	}{
		{"since", acc.ListQuery{Since: base}, "q1,q2,q3,q4"},
		{"since excludes earlier", acc.ListQuery{Since: base.Add(2 * time.Minute)}, "q2,q3,q4"},
		{"user as caller or callee", acc.ListQuery{Since: base, User: "alice@q.test"}, "q1,q3,q4"},
		{"sip prefix", acc.ListQuery{User: "sip:carol@q.test"}, "q2,q3"},
		{"user and since", acc.ListQuery{Since: base.Add(90 * time.Second), User: "bob@q.test"}, "q2,q4"},
		{"limit keeps the newest", acc.ListQuery{Since: base, Limit: 2}, "q3,q4"},
		{"no match", acc.ListQuery{User: "nobody@q.test"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(query(t, d, tt.q)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// testUnstorable writes text PostgreSQL and MySQL would refuse: the sink must
// adjust it rather than fail the batch for ever.
func testUnstorable(t *testing.T, d *db.DB) {
	s := acc.NewDBSink(d)
	long := strings.Repeat("é", 300) + "@example.test"
	r := acc.Record{ID: "odd", CallID: "bad\xff\xfeutf8", FromName: "nul\x00byte", Caller: long,
		Callee: "bob@odd.test", Transport: strings.Repeat("x", 40), InviteAt: t0.Add(48 * time.Hour)}
	writeRecords(t, s, r)
	got := query(t, d, acc.ListQuery{User: "bob@odd.test"})
	if len(got) != 1 {
		t.Fatalf("got %d records", len(got))
	}
	g := got[0]
	if g.CallID != "bad\uFFFDutf8" || g.FromName != "nulbyte" || g.Caller != strings.Repeat("é", 255) || len(g.Transport) != 16 {
		t.Errorf("stored %q %q %q %q", g.CallID, g.FromName, g.Caller, g.Transport)
	}
}

func testDBWriter(t *testing.T, d *db.DB) {
	w := acc.NewWriter(fast(), []acc.Sink{acc.NewDBSink(d)}, nil)
	want := recs(1234)
	for i := range want {
		want[i].ID = "w" + want[i].ID
		want[i].Caller, want[i].Callee = "writer@example.test", "writee@example.test"
		want[i].InviteAt = t0.Add(72*time.Hour + time.Duration(i)*time.Millisecond)
	}
	recordAll(w, want)
	closeWriter(t, w)
	got := query(t, d, acc.ListQuery{User: "writer@example.test"})
	exactlyOnce(t, got, want)
}
