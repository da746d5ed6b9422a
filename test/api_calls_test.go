package test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

type apiDialog struct {
	ID       string    `json:"id"`
	CallID   string    `json:"call_id"`
	State    string    `json:"state"`
	Caller   string    `json:"caller"`
	Callee   string    `json:"callee"`
	InviteAt time.Time `json:"invite_at"`
	AnswerAt time.Time `json:"answer_at"`
	Ends     []string  `json:"ends"`
}

type apiCDR struct {
	ID          string  `json:"id"`
	CallID      string  `json:"call_id"`
	Caller      string  `json:"caller"`
	Callee      string  `json:"callee"`
	Disposition string  `json:"disposition"`
	HangupBy    string  `json:"hangup_by"`
	Code        int     `json:"code"`
	Duration    float64 `json:"duration"`
}

// TestAPICalls: a call between two UAs is listed while it lasts; DELETE
// ends it with a BYE to both ends (RFC 3326 Reason: ended by operator);
// afterwards the list is empty and the call record says the system hung up.
// The records are filtered by user and since, and exported as CSV.
func TestAPICalls(t *testing.T) {
	e := startAPI(t, serverOpts{})
	alice, bob := newAPIUA(t, e.server, "alice"), newAPIUA(t, e.server, "bob")
	call := startCall(t, alice, bob)

	calls := apiGetList[apiDialog](t, e, "/api/v1/calls")
	if calls.Total != 1 || len(calls.Items) != 1 {
		t.Fatalf("calls: %+v", calls)
	}
	d := calls.Items[0]
	if d.CallID != call.callID || d.State != "confirmed" || d.Caller != "alice@example.test" || d.Callee != "bob@example.test" ||
		d.AnswerAt.Before(d.InviteAt) || len(d.Ends) != 2 || len(d.ID) < 16 {
		t.Errorf("call %+v", d)
	}
	e.call(t, "DELETE", "/api/v1/calls/nosuchcall", nil).wantError(t, http.StatusNotFound, "no answered call")
	e.call(t, "DELETE", "/api/v1/calls/"+d.ID, nil).want(t, 200)
	for _, ua := range []*apiUA{alice, bob} {
		bye := ua.expectBye(t)
		if cid, _ := header(bye, "Call-ID", "i"); cid != call.callID {
			t.Errorf("%s got a BYE for %q, want %q", ua.user, cid, call.callID)
		}
		if r, _ := header(bye, "Reason"); !strings.Contains(r, "Ended by operator") {
			t.Errorf("%s: BYE Reason %q", ua.user, r)
		}
	}
	if l := apiGetList[apiDialog](t, e, "/api/v1/calls"); l.Total != 0 || l.Items == nil {
		t.Errorf("calls after the end: %+v", l)
	}
	e.call(t, "DELETE", "/api/v1/calls/"+d.ID, nil).wantError(t, http.StatusNotFound, "no answered call")

	t.Run("cdrs", func(t *testing.T) { checkCDRs(t, e, call) })
}

// checkCDRs looks for the record of the call ended by the operator.
func checkCDRs(t *testing.T, e *apiEnv, call *apiCall) {
	var recs apiList[apiCDR]
	q := "/api/v1/cdrs?user=alice@example.test&since=1h"
	if !waitFor(5*time.Second, func() bool { // records are written asynchronously
		e.call(t, "GET", q, nil).want(t, 200).decode(t, &recs)
		return recs.Total > 0
	}) {
		t.Fatalf("no call record for alice")
	}
	r := recs.Items[0]
	if recs.Total != 1 || r.CallID != call.callID || r.Caller != "alice@example.test" || r.Callee != "bob@example.test" ||
		r.Disposition != "answered" || r.HangupBy != "system" || r.Code != 200 || r.Duration < 0 {
		t.Errorf("record %+v", recs)
	}
	for _, q := range []string{
		"user=bob@example.test", "since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), "limit=1", "",
	} {
		if l := apiGetList[apiCDR](t, e, "/api/v1/cdrs?"+q); l.Total != 1 {
			t.Errorf("cdrs?%s: %+v", q, l)
		}
	}
	for _, q := range []string{
		"user=nobody@example.test", "since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)),
	} {
		if l := apiGetList[apiCDR](t, e, "/api/v1/cdrs?"+q); l.Total != 0 || l.Items == nil {
			t.Errorf("cdrs?%s: %+v", q, l)
		}
	}
	e.call(t, "GET", "/api/v1/cdrs?since=yesterday", nil).wantError(t, 400, "since")
	e.call(t, "GET", "/api/v1/cdrs?limit=0", nil).wantError(t, 400, "limit")

	res := e.call(t, "GET", "/api/v1/cdrs?format=csv&user=alice@example.test", nil).want(t, 200)
	if ct := res.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !slices.Equal(rows[0][:4], []string{"id", "call_id", "caller", "callee"}) {
		t.Fatalf("CSV:\n%s", res.body)
	}
	col := func(name string) string { return rows[1][slices.Index(rows[0], name)] }
	if col("call_id") != call.callID || col("disposition") != "answered" || col("hangup_by") != "system" || col("code") != "200" {
		t.Errorf("CSV row %v", rows[1])
	}
}
