package acc

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-sip/parley/internal/db"
)

// cdrColumns are the cdr table's columns (migration "cdr"), in the order
// values and scan below use.
var cdrColumns = []string{"id", "call_id", "from_uri", "from_name", "to_uri", "request_uri",
	"caller", "callee", "source", "transport", "invite_at", "ring_at", "answer_at", "end_at",
	"duration", "code", "reason", "disposition", "missed", "hangup_by", "targets", "referred_by", "transfer_to"}

// rowsPerInsert is how many records one INSERT carries: 23 columns each stays
// far below every database's limit on placeholders.
const rowsPerInsert = 100

// dbSink writes records to the cdr table.
type dbSink struct {
	d       *db.DB
	fullIns string // the INSERT of rowsPerInsert rows
}

// NewDBSink returns a Sink writing one row per record to d's cdr table, which
// d.Migrate creates. A batch is written in one transaction; a record whose id
// is in the table already is skipped, so a retried batch adds no duplicates.
// Text that the database would refuse is adjusted, not failed: invalid UTF-8
// becomes U+FFFD, NUL is removed, and caller, callee and the short columns are
// cut to their column's length. Close does not close d.
func NewDBSink(d *db.DB) Sink {
	return &dbSink{d: d, fullIns: insertSQL(d, rowsPerInsert)}
}

func (s *dbSink) Name() string { return "db:" + s.d.Name() }
func (s *dbSink) Close() error { return nil }

// Write inserts rs in one transaction, rowsPerInsert rows per statement.
func (s *dbSink) Write(ctx context.Context, rs []Record) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args := make([]any, 0, min(len(rs), rowsPerInsert)*len(cdrColumns))
	for len(rs) > 0 {
		n := min(len(rs), rowsPerInsert)
		q := s.fullIns
		if n < rowsPerInsert {
			q = insertSQL(s.d, n)
		}
		args = args[:0]
		for _, r := range rs[:n] {
			args = append(args, rowValues(r)...)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return tx.Commit()
}

// insertSQL is the dialect's INSERT of n rows that skips rows whose id exists.
func insertSQL(d *db.DB, n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cdrColumns)), ",") + ")"
	q := "INSERT INTO cdr (" + strings.Join(cdrColumns, ",") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	if d.Dialect == db.MySQL {
		return q + " ON DUPLICATE KEY UPDATE id=id"
	}
	return d.Rebind(q + " ON CONFLICT (id) DO NOTHING")
}

// rowValues are r's column values, in cdrColumns order.
func rowValues(r Record) []any {
	r = storable(r)
	missed := 0
	if r.Missed {
		missed = 1
	}
	if r.Code < 0 || r.Code > 999 { // not a SIP status; INTEGER holds it, but it is noise
		r.Code = 0
	}
	return []any{dbText(r.ID, 128), dbText(r.CallID, 0), dbText(r.FromURI, 0), dbText(r.FromName, 0),
		dbText(r.ToURI, 0), dbText(r.RequestURI, 0), dbText(r.Caller, 255), dbText(r.Callee, 255),
		dbText(r.Source, 0), dbText(r.Transport, 16), unixMilli(r.InviteAt), unixMilli(r.RingAt),
		unixMilli(r.AnswerAt), unixMilli(r.EndAt), r.Duration, r.Code, dbText(r.Reason, 0),
		dbText(string(r.Disposition), 16), missed, dbText(string(r.HangupBy), 16),
		dbText(strings.Join(r.Targets, "\n"), 0), dbText(r.ReferredBy, 0), dbText(r.TransferTo, 0)}
}

// maxText is what a TEXT column holds on MySQL (65,535 bytes), less room for
// the replacement characters dbText may add.
const maxText = 60000

// dbText makes s storable in a column of at most max characters (0: TEXT):
// valid UTF-8 without NUL, cut at a character boundary.
func dbText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if max == 0 {
		if len(s) <= maxText {
			return s
		}
		max = maxText / 4 // characters of up to 4 bytes each
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ListQuery selects call records.
type ListQuery struct {
	Since  time.Time // calls whose INVITE arrived at or after Since; zero for all
	User   string    // calls from or to this user@domain (a "sip:" or "sips:" prefix is ignored); "" for all
	Limit  int       // at most this many, the newest; 0 for all
	Offset int       // skip this many of the newest first (a page further back); with Limit
}

// where returns the WHERE clause (empty or starting with a space) and its arguments.
func (q ListQuery) where() (string, []any) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "invite_at >= ?"), append(args, q.Since.UnixMilli())
	}
	if user := strings.TrimPrefix(strings.TrimPrefix(q.User, "sips:"), "sip:"); user != "" {
		conds, args = append(conds, "(caller = ? OR callee = ?)"), append(args, user, user)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Count returns how many records in d's cdr table match q's Since and User
// (Limit and Offset do not count), for a paginated list's total.
func Count(ctx context.Context, d *db.DB, q ListQuery) (int, error) {
	where, args := q.where()
	var n int
	if err := d.QueryRowContext(ctx, d.Rebind("SELECT COUNT(*) FROM cdr"+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("acc: count cdr: %w", err)
	}
	return n, nil
}

// Query returns the records in d's cdr table that match q, oldest INVITE
// first. With a Limit it keeps the newest Limit records (as `tail` does),
// after skipping the newest Offset ones: offset 0 is the latest page, and
// each further page goes back in time.
func Query(ctx context.Context, d *db.DB, q ListQuery) ([]Record, error) {
	where, args := q.where()
	stmt := "SELECT " + strings.Join(cdrColumns, ",") + " FROM cdr" + where + " ORDER BY invite_at DESC, id DESC"
	if q.Limit > 0 {
		stmt += fmt.Sprintf(" LIMIT %d", q.Limit)
		if q.Offset > 0 {
			stmt += fmt.Sprintf(" OFFSET %d", q.Offset)
		}
	}
	rows, err := d.QueryContext(ctx, d.Rebind(stmt), args...)
	if err != nil {
		return nil, fmt.Errorf("acc: query cdr: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("acc: query cdr: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("acc: query cdr: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// scanRecord reads one row of cdrColumns.
func scanRecord(rows *sql.Rows) (Record, error) {
	var r Record
	var invite, ring, answer, end int64
	var missed int
	var disp, hangup, targets string
	err := rows.Scan(&r.ID, &r.CallID, &r.FromURI, &r.FromName, &r.ToURI, &r.RequestURI,
		&r.Caller, &r.Callee, &r.Source, &r.Transport, &invite, &ring, &answer, &end,
		&r.Duration, &r.Code, &r.Reason, &disp, &missed, &hangup, &targets, &r.ReferredBy, &r.TransferTo)
	if err != nil {
		return Record{}, err
	}
	r.InviteAt, r.RingAt, r.AnswerAt, r.EndAt = fromMilli(invite), fromMilli(ring), fromMilli(answer), fromMilli(end)
	r.Disposition, r.HangupBy, r.Missed = Disposition(disp), HangupBy(hangup), missed != 0
	if targets != "" {
		r.Targets = strings.Split(targets, "\n")
	}
	return r, nil
}
