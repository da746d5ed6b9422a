package proxy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// TestDialogTargetRFC3261s12_2_1_1: the Request-URI and Route of a request
// inside a dialog, from its remote target and route set.
func TestDialogTargetRFC3261s12_2_1_1(t *testing.T) {
	const target = "sip:alice@192.0.2.1:5060"
	for _, tc := range []struct {
		name      string
		routes    []string
		ruri      string
		wantRoute []string
	}{
		{"no route set", nil, target, nil},
		{"loose router first", []string{"<sip:p1.example.net;lr>", "<sip:p2.example.net>"}, target,
			[]string{"<sip:p1.example.net;lr>", "<sip:p2.example.net>"}},
		{"strict router first", []string{"<sip:p1.example.net;transport=tcp>", "<sip:p2.example.net;lr>"},
			"sip:p1.example.net;transport=tcp", []string{"<sip:p2.example.net;lr>", "<" + target + ">"}},
		{"strict router alone", []string{"<sip:p1.example.net>"}, "sip:p1.example.net", []string{"<" + target + ">"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ruri, route := dialogTarget(target, tc.routes)
			if ruri != tc.ruri || !slices.Equal(route, tc.wantRoute) {
				t.Errorf("dialogTarget = %q %q, want %q %q", ruri, route, tc.ruri, tc.wantRoute)
			}
		})
	}
}

// TestByeBytes: a BYE of Parley's own parses, carries its route set in
// order, the dialog's tags, and a Reason whose text cannot break out of its
// quotes (RFC 3326).
func TestByeBytes(t *testing.T) {
	b := bye{target: "sip:bob@192.0.2.2:5070", routes: []string{"<sip:p2.example.net;lr>", "<sip:p3.example.net;lr>"},
		from: "<sip:alice@example.test>;tag=a1", to: "<sip:bob@example.test>;tag=b2", callID: "c1@host", cseq: 7,
		why: "Ended \"by\" operator\r\nX: y"}
	raw := b.bytes([]byte("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKown"))
	m, err := sip.ParseCopy(raw)
	if err != nil {
		t.Fatalf("BYE does not parse: %v\n%s", err, raw)
	}
	if m.Method() != sip.BYE || string(m.RequestURI()) != b.target || m.CSeq != 7 || string(m.CallID) != "c1@host" ||
		string(m.FromTag) != "a1" || string(m.ToTag) != "b2" {
		t.Errorf("BYE:\n%s", raw)
	}
	if got := routeValues(m); len(got) != 2 || string(got[0]) != b.routes[0] || string(got[1]) != b.routes[1] {
		t.Errorf("Route %q, want %q", got, b.routes)
	}
	var reasons []string
	for _, h := range m.Headers() {
		switch name := string(m.HeaderName(&h)); {
		case strings.EqualFold(name, "Reason"):
			reasons = append(reasons, string(m.HeaderValue(&h)))
		case name == "X":
			t.Errorf("the Reason text injected a header line:\n%s", raw)
		}
	}
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], `SIP;cause=200;text="Ended  by  operator`) ||
		strings.Count(reasons[0], `"`) != 2 {
		t.Errorf("Reason lines %q, want one with the text quoted safely", reasons)
	}
	if len(m.Get(sip.HdrContentLength)) == 0 {
		t.Errorf("BYE without Content-Length:\n%s", raw)
	}
}

// TestEndAllRecords: EndAll ends every confirmed call, writing one record
// each with hangup_by system, and leaves unanswered calls alone; a BYE from
// a phone afterwards writes nothing more. (With no Proxy attached no BYE is
// sent; the e2e tests in test/ see the BYEs.)
func TestEndAllRecords(t *testing.T) {
	rec := &recorded{}
	cs := NewCalls(rec)
	answered := cs.start(request(t, "sip:bob@example.test", "Record-Route: <sip:p1.example.net;lr>",
		"Contact: <sip:alice@192.0.2.1>"), transaction.Source{}, true)
	res, err := sip.ParseCopy([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\n" +
		"From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>;tag=b1\r\nCall-ID: c1@host\r\n" +
		"CSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.2>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	cs.answered(answered, res, transport.Dest{Proto: transport.UDP}, []string{"<sip:p2.example.net;lr>"})
	cs.start(request(t, "sip:carol@example.test"), transaction.Source{}, true)
	ds := cs.List()
	if len(ds) != 2 {
		t.Fatalf("%d calls listed, want 2", len(ds))
	}
	for _, d := range ds {
		if d.State == Confirmed && (!slices.Equal(d.CallerRoute, []string{"<sip:p1.example.net;lr>"}) ||
			!slices.Equal(d.CalleeRoute, []string{"<sip:p2.example.net;lr>"})) {
			t.Errorf("confirmed call's route sets: %q %q", d.CallerRoute, d.CalleeRoute)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if n := cs.EndAll(ctx, "Server shutting down"); n != 1 {
		t.Errorf("EndAll ended %d calls, want 1", n)
	}
	if len(rec.got) != 1 || rec.got[0].HangupBy != acc.BySystem || rec.got[0].Disposition != acc.Answered ||
		rec.got[0].EndAt.Before(rec.got[0].AnswerAt) {
		t.Fatalf("records %+v, want one answered, hangup_by system", rec.got)
	}
	if cs.finish(answered, acc.ByCaller) || cs.EndAll(ctx, "again") != 0 || len(rec.got) != 1 {
		t.Errorf("a call ended twice: %d records", len(rec.got))
	}
	if ds := cs.List(); len(ds) != 1 || ds[0].State != Early {
		t.Errorf("calls after EndAll: %+v, want the ringing one", ds)
	}
}
