package phones

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/proctest"
)

// cdrWant is the record one INVITE must produce.
type cdrWant struct {
	label          string
	callID         string
	caller, callee string // user@domain
	fromName       string // display name of From, when the phone sends one
	disp           acc.Disposition
	codes          []int // acceptable final codes
	hangupBy       acc.HangupBy
	missed         bool
	ring           bool      // ring_at must be set (the callee sent 180)
	transferTo     string    // substring of transfer_to; "" means empty
	referredBy     string    // substring of referred_by; "" means empty
	minDur, maxDur float64   // bounds of duration (answered calls)
	from, to       time.Time // invite_at and end_at lie in [from, to]
	// bugIf recognises a known Parley bug in a record: it returns the bug's
	// description, or "".
	bugIf func(r acc.Record) string
	// bugIfMissing, when set, is the known bug that explains no record at all.
	bugIfMissing string
}

const clockSlack = 100 * time.Millisecond

// check compares one record with w.
func (w cdrWant) check(store string, r acc.Record) cdrChecks {
	var c cdrChecks
	if w.bugIf != nil {
		if b := w.bugIf(r); b != "" {
			c.bug("%s", b)
			return c
		}
	}
	bad := func(format string, args ...any) {
		c.fail("%s: %s record %s: %s", w.label, store, shortID(r.CallID), fmt.Sprintf(format, args...))
	}
	if r.ID == "" {
		bad("no id")
	}
	if r.Caller != w.caller || r.Callee != w.callee {
		bad("caller/callee %q/%q, want %q/%q", r.Caller, r.Callee, w.caller, w.callee)
	}
	if w.fromName != "" && r.FromName != w.fromName {
		bad("from_name %q, want %q", r.FromName, w.fromName)
	}
	if r.Disposition != w.disp {
		bad("disposition %q, want %q (code %d %q)", r.Disposition, w.disp, r.Code, r.Reason)
	}
	if !slices.Contains(w.codes, r.Code) {
		bad("code %d, want one of %v", r.Code, w.codes)
	}
	if r.Reason == "" {
		bad("empty reason")
	}
	if r.HangupBy != w.hangupBy {
		bad("hangup_by %q, want %q", r.HangupBy, w.hangupBy)
	}
	if r.Missed != w.missed {
		bad("missed %v, want %v", r.Missed, w.missed)
	}
	if !strings.EqualFold(r.Transport, "udp") || !strings.HasPrefix(r.Source, "127.0.0.1:") {
		bad("transport %q source %q, want UDP from 127.0.0.1", r.Transport, r.Source)
	}
	if !strings.Contains(r.FromURI, strings.Split(w.caller, "@")[0]+"@") || !strings.Contains(r.RequestURI, strings.Split(w.callee, "@")[0]+"@") {
		bad("from_uri %q request_uri %q do not name %s and %s", r.FromURI, r.RequestURI, w.caller, w.callee)
	}
	checkSub := func(field, got, want string) {
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			bad("%s %q, want %q", field, got, cond(want == "", "empty", "containing "+want))
		}
	}
	checkSub("transfer_to", r.TransferTo, w.transferTo)
	checkSub("referred_by", r.ReferredBy, w.referredBy)
	// Times: invite ≤ ring ≤ answer ≤ end, inside the scenario's window.
	if r.InviteAt.IsZero() || r.EndAt.IsZero() {
		bad("invite_at %v end_at %v: both must be set", r.InviteAt, r.EndAt)
		return c
	}
	if r.InviteAt.Before(w.from.Add(-clockSlack)) || r.EndAt.After(w.to.Add(clockSlack)) {
		bad("invite_at %s .. end_at %s outside the call's window %s .. %s", stamp(r.InviteAt), stamp(r.EndAt), stamp(w.from), stamp(w.to))
	}
	seq := []struct {
		name string
		t    time.Time
	}{{"invite_at", r.InviteAt}, {"ring_at", r.RingAt}, {"answer_at", r.AnswerAt}, {"end_at", r.EndAt}}
	var prev struct {
		name string
		t    time.Time
	}
	for _, s := range seq {
		if s.t.IsZero() {
			continue
		}
		if !prev.t.IsZero() && s.t.Before(prev.t) {
			bad("%s %s is before %s %s", s.name, stamp(s.t), prev.name, stamp(prev.t))
		}
		prev = s
	}
	if w.ring && r.RingAt.IsZero() {
		bad("no ring_at, but the callee sent 180 Ringing")
	}
	if w.disp == acc.Answered {
		if r.AnswerAt.IsZero() {
			bad("answered without answer_at")
		} else if d := r.EndAt.Sub(r.AnswerAt).Seconds(); math.Abs(d-r.Duration) > 0.01 {
			bad("duration %.3f s, but end_at - answer_at = %.3f s", r.Duration, d)
		}
		if r.Duration < w.minDur || r.Duration > w.maxDur {
			bad("duration %.3f s, want %.2f .. %.2f s", r.Duration, w.minDur, w.maxDur)
		}
		if len(r.Targets) == 0 {
			bad("no targets")
		}
	} else {
		if !r.AnswerAt.IsZero() || r.Duration != 0 {
			bad("unanswered, but answer_at %v duration %v", r.AnswerAt, r.Duration)
		}
	}
	return c
}

func cond(b bool, x, y string) string {
	if b {
		return x
	}
	return y
}

func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// cdrStore is where records are read back from.
type cdrStore interface {
	name() string
	records() ([]acc.Record, error)
}

// cliStore reads the database through `parley cdr list --json --limit 0 --db DSN`.
type cliStore struct {
	label, bin, dsn string
}

func (s cliStore) name() string { return s.label }

func (s cliStore) records() ([]acc.Record, error) {
	cmd := exec.Command(s.bin, "cdr", "list", "--json", "--limit", "0", "--db", s.dsn)
	var stdout, stderr proctest.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	p, err := proctest.Start("parley cdr list", cmd)
	if err != nil {
		return nil, err
	}
	if !p.Wait(20 * time.Second) {
		p.Kill()
		return nil, fmt.Errorf("parley cdr list --db %s: no answer within 20 s", s.dsn)
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("parley cdr list --json --db %s: %v: %s", s.dsn, err, strings.TrimSpace(stderr.String()))
	}
	return parseJSONLines([]byte(stdout.String()))
}

// fileStore reads the JSON-lines file.
type fileStore struct{ path string }

func (s fileStore) name() string { return "file" }

func (s fileStore) records() ([]acc.Record, error) {
	b, err := os.ReadFile(s.path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return nil, fmt.Errorf("%s does not end in a newline (partial line)", s.path)
	}
	return parseJSONLines(b)
}

func parseJSONLines(b []byte) ([]acc.Record, error) {
	var out []acc.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r acc.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("bad JSON line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func byCallID(rs []acc.Record, id string) []acc.Record {
	var out []acc.Record
	for _, r := range rs {
		if r.CallID == id {
			out = append(out, r)
		}
	}
	return out
}

// waitRecords polls the stores for up to d until each has a record of every
// want, then checks them (exactly one per Call-ID).
func waitRecords(stores []cdrStore, d time.Duration, wants ...cdrWant) cdrChecks {
	var c cdrChecks
	for _, s := range stores {
		var rs []acc.Record
		var err error
		proctest.WaitFor(d, func() bool {
			rs, err = s.records()
			if err != nil {
				return false
			}
			for _, w := range wants {
				if len(byCallID(rs, w.callID)) == 0 {
					return false
				}
			}
			return true
		})
		if err != nil {
			c.fail("%s: %v", s.name(), err)
			continue
		}
		for _, w := range wants {
			c.add(checkOne(s.name(), rs, w, d))
		}
	}
	return c
}

// checkOne checks that rs has exactly one record of w's call, and that it is right.
func checkOne(store string, rs []acc.Record, w cdrWant, waited time.Duration) cdrChecks {
	var c cdrChecks
	got := byCallID(rs, w.callID)
	switch {
	case len(got) == 0 && w.bugIfMissing != "":
		c.bug("%s", w.bugIfMissing)
	case len(got) == 0:
		c.fail("%s: no %s record for Call-ID %s after %v", w.label, store, w.callID, waited)
	case len(got) > 1:
		c.fail("%s: %d %s records for Call-ID %s, want exactly one: %s", w.label, len(got), store, w.callID, recordsJSON(got))
	default:
		c.add(w.check(store, got[0]))
	}
	return c
}

// checkAll checks a store's whole content against wants: every want's record
// exactly once, and nothing else but records of the calls in made (INVITEs
// the test sent whose scenario failed before saying what to expect).
func checkAll(s cdrStore, wants []cdrWant, made map[string]bool) (cdrChecks, []acc.Record) {
	var c cdrChecks
	rs, err := s.records()
	if err != nil {
		c.fail("%s: %v", s.name(), err)
		return c, nil
	}
	known := map[string]bool{}
	for _, w := range wants {
		known[w.callID] = true
		c.add(checkOne(s.name(), rs, w, 0))
	}
	ids := map[string]int{}
	for _, r := range rs {
		ids[r.ID]++
		if !known[r.CallID] && !made[r.CallID] {
			c.fail("%s: unexpected record (no INVITE of the test made it): %s", s.name(), recordsJSON([]acc.Record{r}))
		}
	}
	for id, n := range ids {
		if n > 1 {
			c.fail("%s: record id %s stored %d times", s.name(), id, n)
		}
	}
	return c, rs
}

// sameRecords checks that two stores hold the same records, field by field
// (times to the millisecond, which is what the database keeps).
func sameRecords(aName string, a []acc.Record, bName string, b []acc.Record) cdrChecks {
	var c cdrChecks
	norm := func(r acc.Record) string {
		for _, t := range []*time.Time{&r.InviteAt, &r.RingAt, &r.AnswerAt, &r.EndAt} {
			if !t.IsZero() {
				*t = time.UnixMilli(t.UnixMilli()).UTC()
			}
		}
		r.Duration = math.Round(r.Duration*1000) / 1000
		j, _ := json.Marshal(r)
		return string(j)
	}
	am := map[string]string{}
	for _, r := range a {
		am[r.ID] = norm(r)
	}
	seen := 0
	for _, r := range b {
		x, ok := am[r.ID]
		if !ok {
			c.fail("record %s (Call-ID %s) is in %s but not in %s", r.ID, shortID(r.CallID), bName, aName)
			continue
		}
		seen++
		if y := norm(r); x != y {
			c.fail("record %s differs: %s has %s, %s has %s", r.ID, aName, x, bName, y)
		}
	}
	if seen != len(am) {
		c.fail("%s has %d records, %s %d of them", aName, len(am), bName, seen)
	}
	return c
}

func recordsJSON(rs []acc.Record) string {
	var parts []string
	for _, r := range rs {
		j, _ := json.Marshal(r)
		parts = append(parts, string(j))
	}
	return strings.Join(parts, "\n")
}
