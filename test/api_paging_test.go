package test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
)

// Pagination of the lists that hold everything in one answer otherwise:
// domains, calls in progress and call records take offset and limit as
// users and registrations do, and answer {"items": [...], "total": N} with
// the total of the whole list.

// TestAPIDomainsPaging: domains page in name order; a page past the end is
// empty with the total; bad offsets and limits get 400.
func TestAPIDomainsPaging(t *testing.T) {
	e := startAPI(t, serverOpts{})
	for _, d := range []string{"c.test", "a.test", "b.test"} {
		e.call(t, "POST", "/api/v1/domains", map[string]string{"name": d}).want(t, http.StatusCreated)
	}
	all := apiGetList[string](t, e, "/api/v1/domains")
	if want := []string{"a.test", "b.test", "c.test", "example.test"}; !slices.Equal(all.Items, want) || all.Total != 4 {
		t.Fatalf("domains: %+v, want %v", all, want)
	}
	if p := apiGetList[string](t, e, "/api/v1/domains?offset=1&limit=2"); !slices.Equal(p.Items, []string{"b.test", "c.test"}) || p.Total != 4 {
		t.Errorf("offset=1&limit=2: %+v", p)
	}
	if p := apiGetList[string](t, e, "/api/v1/domains?offset=3"); !slices.Equal(p.Items, []string{"example.test"}) || p.Total != 4 {
		t.Errorf("offset=3: %+v", p)
	}
	if p := apiGetList[string](t, e, "/api/v1/domains?offset=9"); p.Items == nil || len(p.Items) != 0 || p.Total != 4 {
		t.Errorf("offset=9: %+v", p)
	}
	wantPagingErrors(t, e, "/api/v1/domains", 1000)
}

// TestAPICallsPaging: three calls in progress page oldest first.
func TestAPICallsPaging(t *testing.T) {
	e := startAPI(t, serverOpts{})
	alice, bob := newAPIUA(t, e.server, "alice"), newAPIUA(t, e.server, "bob")
	var ids []string
	for range 3 {
		ids = append(ids, startCall(t, alice, bob).callID)
		time.Sleep(5 * time.Millisecond) // distinct INVITE times
	}
	all := apiGetList[apiDialog](t, e, "/api/v1/calls")
	if all.Total != 3 || len(all.Items) != 3 {
		t.Fatalf("calls: %+v", all)
	}
	for i, d := range all.Items {
		if d.CallID != ids[i] {
			t.Errorf("call %d is %s, want %s (oldest first)", i, d.CallID, ids[i])
		}
	}
	if p := apiGetList[apiDialog](t, e, "/api/v1/calls?offset=1&limit=1"); p.Total != 3 || len(p.Items) != 1 || p.Items[0].CallID != ids[1] {
		t.Errorf("offset=1&limit=1: %+v, want the second call %s", p, ids[1])
	}
	if p := apiGetList[apiDialog](t, e, "/api/v1/calls?offset=3"); p.Total != 3 || p.Items == nil || len(p.Items) != 0 {
		t.Errorf("offset=3: %+v", p)
	}
	wantPagingErrors(t, e, "/api/v1/calls", 1000)
}

// TestAPICDRsPaging: call records page back in time: offset 0 is the newest
// page, each page oldest first, and total counts what since and user match.
func TestAPICDRsPaging(t *testing.T) {
	e := startAPI(t, serverOpts{})
	d := openDB(t, e.cfg.DB)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []acc.Record
	for i := range 5 {
		callee := "bob@example.test"
		if i%2 == 1 {
			callee = "carol@example.test"
		}
		recs = append(recs, acc.Record{ID: acc.NewID(), CallID: fmt.Sprintf("page-%d@api.invalid", i), Caller: "alice@example.test",
			Callee: callee, InviteAt: t0.Add(time.Duration(i) * time.Minute), EndAt: t0.Add(time.Duration(i)*time.Minute + time.Second),
			Code: 486, Reason: "Busy Here", Disposition: acc.Busy})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := acc.NewDBSink(d).Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ids := func(l apiList[apiCDR]) []string {
		var out []string
		for _, r := range l.Items {
			out = append(out, r.CallID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []int
		total int
	}{
		{"limit=2", []int{3, 4}, 5},
		{"limit=2&offset=2", []int{1, 2}, 5},
		{"limit=2&offset=4", []int{0}, 5},
		{"limit=2&offset=5", nil, 5},
		{"offset=1", []int{0, 1, 2, 3}, 5},
		{"user=carol@example.test&limit=1&offset=1", []int{1}, 2},
		{"since=" + t0.Add(150*time.Second).UTC().Format(time.RFC3339Nano) + "&limit=1", []int{4}, 2},
	} {
		l := apiGetList[apiCDR](t, e, "/api/v1/cdrs?"+tc.query)
		var want []string
		for _, i := range tc.want {
			want = append(want, recs[i].CallID)
		}
		if got := ids(l); !slices.Equal(got, want) || l.Total != tc.total || l.Items == nil {
			t.Errorf("cdrs?%s: %v total %d, want %v total %d", tc.query, got, l.Total, want, tc.total)
		}
	}
	wantPagingErrors(t, e, "/api/v1/cdrs", 100000)
}

// wantPagingErrors checks that bad offsets and limits get 400 naming them.
func wantPagingErrors(t *testing.T, e *apiEnv, path string, maxLimit int) {
	t.Helper()
	for _, q := range []string{"offset=-1", "offset=x", "limit=0", fmt.Sprintf("limit=%d", maxLimit+1), "limit=two"} {
		e.call(t, "GET", path+"?"+q, nil).wantError(t, 400, "offset|limit")
	}
}
