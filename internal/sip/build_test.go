package sip

import (
	"strings"
	"testing"
)

func TestAppendResponse(t *testing.T) {
	req := mustParse(t, []byte(editReq))
	tests := []struct {
		name    string
		req     *Message
		code    int
		reason  string
		toTag   string
		wantTag string
	}{
		{"tag added to a final response", req, 486, "", "as8d9", "as8d9"},
		{"tag added to a provisional above 100", req, 180, "Ringing", "as8d9", "as8d9"},
		{"no tag on 100 Trying", req, 100, "", "as8d9", ""},
		{"no tag given", req, 404, "", "", ""},
		{"existing tag kept", mustParse(t, invite("To: Bob <sip:bob@example.com>;tag=dialog1")), 200, "", "new", "dialog1"},
		{"addr-spec To", mustParse(t, invite("To: sip:bob@example.com")), 603, "", "x1", "x1"},
		{"addr-spec To with tag", mustParse(t, invite("To: sip:bob@example.com ;tag=old")), 603, "", "x1", "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := AppendResponse(nil, tt.req, tt.code, tt.reason, []byte(tt.toTag), nil, "", nil)
			res := mustParse(t, out)
			reason := tt.reason
			if reason == "" {
				reason = StatusText(tt.code)
			}
			if res.StatusCode() != tt.code || string(res.Reason()) != reason || string(res.ToTag) != tt.wantTag {
				t.Fatalf("got %d %q tag %q:\n%s", res.StatusCode(), res.Reason(), res.ToTag, out)
			}
			// §8.2.6.2: From, Call-ID, CSeq and every Via value are copied, in order.
			pairs := [][2]string{
				{values(res, HdrVia), values(tt.req, HdrVia)},
				{string(res.From.URI) + string(res.FromTag), string(tt.req.From.URI) + string(tt.req.FromTag)},
				{string(res.To.URI), string(tt.req.To.URI)},
				{string(res.CallID), string(tt.req.CallID)},
				{string(res.CSeqMethodName()), string(tt.req.CSeqMethodName())},
			}
			for _, p := range pairs {
				if p[0] != p[1] {
					t.Errorf("copied %q, request has %q", p[0], p[1])
				}
			}
			if res.CSeq != tt.req.CSeq || res.ContentLength != 0 || res.Has(HdrRoute) || res.Has(HdrContact) || res.Has(HdrMaxForwards) {
				t.Errorf("unexpected headers:\n%s", out)
			}
		})
	}
}

func TestAppendResponseViaLines(t *testing.T) {
	req := mustParse(t, []byte(editReq))
	out := string(AppendResponse(nil, req, 200, "OK", []byte("t"), nil, "", nil))
	// Each Via line is copied as a line, under its full name (the second was "v:").
	want := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport, SIP/2.0/TCP second.example.com;branch=z9hG4bK2\r\n" +
		"Via: SIP/2.0/UDP third.example.com;branch=z9hG4bK3\r\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("got\n%s", out)
	}
}

func TestAppendResponseExtraAndBody(t *testing.T) {
	req := mustParse(t, []byte(editReq))
	extra := []byte("Unsupported: foo\r\nRetry-After: 30\r\n")
	out := AppendResponse(nil, req, 420, "", []byte("t"), extra, "text/plain", []byte("no foo here"))
	res := mustParse(t, out)
	if string(res.GetByName("Unsupported")) != "foo" || string(res.Get(HdrRetryAfter)) != "30" ||
		string(res.Get(HdrContentType)) != "text/plain" || string(res.Body()) != "no foo here" || res.ContentLength != 11 {
		t.Fatalf("got\n%s", out)
	}
	// A body without a type gets no Content-Type; appending keeps what dst held.
	out = AppendResponse([]byte("prefix"), req, 200, "", nil, nil, "", []byte("x"))
	if !strings.HasPrefix(string(out), "prefixSIP/2.0 200 OK\r\n") || strings.Contains(string(out), "Content-Type") {
		t.Fatalf("got\n%s", out)
	}
}

func TestAppendResponseToMalformed(t *testing.T) {
	// The request's header lines are split even when its start line is bad,
	// so a 505 can go back to its Via (RFC 4475 §3.1.2.16).
	var req Message
	data := wire("OPTIONS sip:bob@example.com SIP/7.0", with("CSeq: 1 OPTIONS", "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw"), "")
	if err := Parse(data, &req); err != errVersion {
		t.Fatalf("err = %v", err)
	}
	out := AppendResponse(nil, &req, errVersion.Code(), errVersion.Reason(), []byte("t"), nil, "", nil)
	res := mustParse(t, out)
	if res.StatusCode() != 505 || string(res.Via.Host) != "c.example.com" || res.CSeq != 1 || string(res.ToTag) != "t" {
		t.Fatalf("got\n%s", out)
	}
}

// TestAppendCancel checks RFC 3261 §9.1: the CANCEL has the INVITE's
// Request-URI, Call-ID, From, To (tags included) and CSeq number, one Via equal
// to the INVITE's top Via, its Route set, and CSeq method CANCEL.
func TestAppendCancel(t *testing.T) {
	inv := mustParse(t, []byte(editReq))
	out := AppendCancel(nil, inv)
	c := mustParse(t, out)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	checkDerived(t, inv, c, CANCEL, string(out))
	if values(c, HdrVia) != string(inv.Via.Raw) || c.Count(HdrVia) != 1 {
		t.Errorf("Via %q, want only %q", values(c, HdrVia), inv.Via.Raw)
	}
	if string(c.To.URI) != string(inv.To.URI) || string(c.ToTag) != string(inv.ToTag) {
		t.Errorf("To %q;tag=%q", c.To.URI, c.ToTag)
	}
	if len(c.Body()) != 0 || c.ContentLength != 0 || c.Has(HdrContact) || c.Has(HdrContentType) || c.Has(HdrRecordRoute) {
		t.Errorf("extra content:\n%s", out)
	}
}

// TestAppendAck checks RFC 3261 §17.1.1.3: the ACK for a non-2xx final
// response has the INVITE's Request-URI, Call-ID, From, top Via and Route set,
// the To of the response (with its tag), and the CSeq number with method ACK.
func TestAppendAck(t *testing.T) {
	inv := mustParse(t, []byte(editReq))
	res := mustParse(t, AppendResponse(nil, inv, 486, "", []byte("busy1"), nil, "", nil))
	out := AppendAck(nil, inv, res)
	a := mustParse(t, out)
	checkDerived(t, inv, a, ACK, string(out))
	if values(a, HdrVia) != string(inv.Via.Raw) || a.Count(HdrVia) != 1 {
		t.Errorf("Via %q, want only %q", values(a, HdrVia), inv.Via.Raw)
	}
	if string(a.To.URI) != string(res.To.URI) || string(a.ToTag) != "busy1" || a.Count(HdrTo) != 1 {
		t.Errorf("To %q;tag=%q, want the response's", a.To.URI, a.ToTag)
	}
}

func checkDerived(t *testing.T, inv, m *Message, method Method, out string) {
	t.Helper()
	if m.Method() != method || m.CSeqMethod != method || m.CSeq != inv.CSeq {
		t.Errorf("method %v CSeq %d %v:\n%s", m.Method(), m.CSeq, m.CSeqMethod, out)
	}
	if string(m.RequestURI()) != string(inv.RequestURI()) || string(m.CallID) != string(inv.CallID) {
		t.Errorf("Request-URI %q Call-ID %q", m.RequestURI(), m.CallID)
	}
	if string(m.From.URI) != string(inv.From.URI) || string(m.FromTag) != string(inv.FromTag) {
		t.Errorf("From %q;tag=%q", m.From.URI, m.FromTag)
	}
	if values(m, HdrRoute) != values(inv, HdrRoute) {
		t.Errorf("Route %q, want %q", values(m, HdrRoute), values(inv, HdrRoute))
	}
	if m.MaxForwards != inv.MaxForwards {
		t.Errorf("Max-Forwards %d", m.MaxForwards)
	}
}
