package sip

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// stdHeaders are the headers of a minimal valid request.
var stdHeaders = []string{
	"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds",
	"Max-Forwards: 70",
	"To: Bob <sip:bob@example.com>",
	"From: Alice <sip:alice@example.com>;tag=1928301774",
	"Call-ID: a84b4c76e66710@pc33.example.com",
	"CSeq: 314159 INVITE",
}

// wire joins a start line and header lines with CRLF, adds the empty line and the body.
func wire(start string, hdrs []string, body string) []byte {
	var sb strings.Builder
	sb.WriteString(start + "\r\n")
	for _, h := range hdrs {
		sb.WriteString(h + "\r\n")
	}
	sb.WriteString("\r\n" + body)
	return []byte(sb.String())
}

// invite is a request with stdHeaders changed: each "Name: value" in change
// replaces the line of that name (or is added), and "Name:" alone removes it.
func invite(change ...string) []byte {
	return wire("INVITE sip:bob@example.com SIP/2.0", with(change...), "")
}

func with(change ...string) []string {
	hdrs := append([]string(nil), stdHeaders...)
	for _, c := range change {
		name, value, _ := strings.Cut(c, ":")
		i := indexHeader(hdrs, name)
		switch {
		case i >= 0 && strings.TrimSpace(value) == "":
			hdrs = append(hdrs[:i], hdrs[i+1:]...)
		case i >= 0:
			hdrs[i] = c
		default:
			hdrs = append(hdrs, c)
		}
	}
	return hdrs
}

func indexHeader(hdrs []string, name string) int {
	for i, h := range hdrs {
		if strings.HasPrefix(h, name+":") {
			return i
		}
	}
	return -1
}

func mustParse(t *testing.T, data []byte) *Message {
	t.Helper()
	var m Message
	if err := Parse(data, &m); err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	return &m
}

func TestParseFields(t *testing.T) {
	m := mustParse(t, append(invite("Expires: 3600", "Content-Type: application/sdp", "Content-Length: 4", "X-Custom: hello"), "v=0\r"...))
	m2 := mustParse(t, append(invite("Content-Length: 4"), "v=0\r\n"...))
	checks := []struct {
		what      string
		got, want any
	}{
		{"IsRequest", m.IsRequest(), true},
		{"Method", m.Method(), INVITE},
		{"MethodName", string(m.MethodName()), "INVITE"},
		{"RequestURI", string(m.RequestURI()), "sip:bob@example.com"},
		{"StatusCode", m.StatusCode(), 0},
		{"Via host", string(m.Via.Host), "pc33.example.com"},
		{"Via branch", string(m.Via.Branch), "z9hG4bK776asdhds"},
		{"From URI", string(m.From.URI), "sip:alice@example.com"},
		{"FromTag", string(m.FromTag), "1928301774"},
		{"To display", string(m.To.Display), "Bob"},
		{"ToTag", m.ToTag == nil, true},
		{"CallID", string(m.CallID), "a84b4c76e66710@pc33.example.com"},
		{"CSeq", m.CSeq, uint32(314159)},
		{"CSeqMethod", m.CSeqMethod, INVITE},
		{"MaxForwards", m.MaxForwards, 70},
		{"Expires", m.Expires, 3600},
		{"ContentLength", m.ContentLength, 4},
		{"Get", string(m.Get(HdrContentType)), "application/sdp"},
		{"Get absent", m.Get(HdrRoute) == nil, true},
		{"Has", m.Has(HdrContentType) && !m.Has(HdrRoute), true},
		{"GetByName unknown", string(m.GetByName("x-custom")), "hello"},
		{"GetByName known", string(m.GetByName("i")), "a84b4c76e66710@pc33.example.com"},
		{"GetByName absent", m.GetByName("X-None") == nil, true},
		{"header count", len(m.Headers()), 10},
		{"header name as written", string(m.HeaderName(&m.Headers()[9])), "X-Custom"},
		{"header value", string(m.HeaderValue(&m.Headers()[9])), "hello"},
		{"body", string(m2.Body()), "v=0\r"},
		{"Bytes", strings.HasSuffix(string(m2.Bytes()), "\r\n\r\nv=0\r"), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestParseResponse(t *testing.T) {
	m := mustParse(t, wire("SIP/2.0 180 Ringing", with("CSeq: 1 INVITE", "To: <sip:bob@example.com>;tag=a6c85cf"), ""))
	if m.IsRequest() || m.StatusCode() != 180 || string(m.Reason()) != "Ringing" || string(m.ToTag) != "a6c85cf" {
		t.Fatalf("got request=%v %d %q tag %q", m.IsRequest(), m.StatusCode(), m.Reason(), m.ToTag)
	}
	// The CSeq method of a response need not match anything.
	mustParse(t, wire("SIP/2.0 200 OK", with("CSeq: 1 BYE"), ""))
	// No reason phrase, with or without the SP (RFC 4475 §3.1.1.13).
	for _, line := range []string{"SIP/2.0 100 ", "SIP/2.0 100"} {
		if m := mustParse(t, wire(line, stdHeaders, "")); len(m.Reason()) != 0 {
			t.Errorf("%q: reason %q", line, m.Reason())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		want      *ParseError
		usableVia bool
	}{
		{"empty", nil, errEmpty, false},
		{"only CRLF", []byte("\r\n\r\n"), errEmpty, false},
		{"no line end", []byte("INVITE sip:a@b SIP/2.0"), errNoHeaderEnd, false},
		{"no empty line", []byte("INVITE sip:bob@example.com SIP/2.0\r\n" + strings.Join(stdHeaders, "\r\n") + "\r\n"), errNoHeaderEnd, true},
		{"folded line at the end", []byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n x"), errNoHeaderEnd, false},
		{"no version", wire("INVITE sip:bob@example.com", stdHeaders, ""), errStartLine, true},
		{"HTTP", wire("GET / HTTP/1.1", stdHeaders, ""), errStartLine, true},
		{"SIP/3.0 request", wire("INVITE sip:bob@example.com SIP/3.0", stdHeaders, ""), errVersion, true},
		{"SIP/3.0 response", wire("SIP/3.0 200 OK", stdHeaders, ""), errVersion, true},
		{"double SP (RFC 4475 §3.1.2.9)", wire("INVITE  sip:bob@example.com SIP/2.0", stdHeaders, ""), errStartLine, true},
		{"trailing SP (RFC 4475 §3.1.2.10)", wire("INVITE sip:bob@example.com SIP/2.0 ", stdHeaders, ""), errStartLine, true},
		{"bad method", wire("INV<ITE sip:bob@example.com SIP/2.0", stdHeaders, ""), errMethod, true},
		{"bad Request-URI", wire("INVITE <sip:bob@example.com> SIP/2.0", stdHeaders, ""), errRequestURI, true},
		{"Request-URI headers", wire("INVITE sip:bob@example.com?Route=x SIP/2.0", stdHeaders, ""), errURIHeaders, true},
		{"status code short", wire("SIP/2.0 20 OK", stdHeaders, ""), errStatusCode, true},
		{"status code 700", wire("SIP/2.0 700 OK", stdHeaders, ""), errStatusCode, true},
		{"status code huge", wire("SIP/2.0 4294967301 x", stdHeaders, ""), errStatusCode, true},
		{"status code 099", wire("SIP/2.0 099 x", stdHeaders, ""), errStatusCode, true},
		{"status line without code", wire("SIP/2.0", stdHeaders, ""), errStartLine, true},
		{"header without colon", invite("NoColonHere"), errHeaderLine, true},
		{"header name not a token", invite("Bad Name: x"), errHeaderLine, true},
		{"header name empty", invite(": x"), errHeaderLine, true},
		{"first header folded", []byte("INVITE sip:a@b SIP/2.0\r\n Via: SIP/2.0/UDP h\r\n\r\n"), errHeaderLine, false},
		{"no Via", invite("Via:"), errNoVia, false},
		{"bad Via", invite("Via: SIP/2.0/UDP"), errVia, false},
		{"bad Via params keep sent-by", invite("Via: SIP/2.0/UDP h;;"), errVia, true},
		{"no From", invite("From:"), errNoFromTo, true},
		{"no To", invite("To:"), errNoFromTo, true},
		{"bad From", invite("From: <sip:a@b"), errFrom, true},
		{"bad To", invite("To: Bell, A <sip:a@b>"), errTo, true},
		{"two To (compact)", invite("t: <sip:c@d>"), errDuplicateHeader, true},
		{"no Call-ID", invite("Call-ID:"), errCallID, true},
		{"bad Call-ID", invite("Call-ID: a b"), errCallID, true},
		{"two Call-ID", invite("i: other"), errDuplicateHeader, true},
		{"no CSeq", invite("CSeq:"), errCSeq, true},
		{"CSeq without method", invite("CSeq: 1"), errCSeq, true},
		{"CSeq without number", invite("CSeq: INVITE"), errCSeq, true},
		{"CSeq 2**31", invite("CSeq: 2147483648 INVITE"), errCSeq, true},
		{"CSeq method mismatch", invite("CSeq: 1 BYE"), errCSeqMethod, true},
		{"CSeq method case", invite("CSeq: 1 invite"), errCSeqMethod, true},
		{"Max-Forwards 256", invite("Max-Forwards: 256"), errMaxForwards, true},
		{"Max-Forwards negative", invite("Max-Forwards: -1"), errMaxForwards, true},
		{"Expires not a number", invite("Expires: soon"), errExpires, true},
		{"Expires above 2**32", invite("Expires: 4294967296"), errExpires, true},
		{"Content-Length negative", invite("Content-Length: -999"), errContentLength, true},
		{"Content-Length huge", invite("Content-Length: 9999999999"), errContentLength, true},
		{"Content-Length longer than data", invite("Content-Length: 10"), errContentTooLong, true},
		{"two Content-Length", invite("Content-Length: 0", "l: 0"), errDuplicateHeader, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			err := Parse(tt.in, &m)
			if err != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if m.HasUsableVia() != tt.usableVia {
				t.Errorf("HasUsableVia = %v, want %v", m.HasUsableVia(), tt.usableVia)
			}
		})
	}
}

func TestParseDuplicates(t *testing.T) {
	for _, h := range []string{"CSeq: 2 INVITE", "Max-Forwards: 5", "Call-ID: x", "To: <sip:x@y>", "From: <sip:x@y>;tag=9", "Content-Length: 0"} {
		data := wire("INVITE sip:bob@example.com SIP/2.0", append(with("Content-Length: 0"), h), "")
		var m Message
		if err := Parse(data, &m); err != errDuplicateHeader {
			t.Errorf("second %q: err = %v", h, err)
		}
	}
}

func TestParseErrorCodes(t *testing.T) {
	if errVersion.Code() != 505 || errCSeqUnknownMethod.Code() != 501 || errVia.Code() != 400 {
		t.Fatal("unexpected codes")
	}
	var err error = errCSeq
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Error() != "Bad CSeq Header" {
		t.Fatalf("ParseError: %v", err)
	}
	// An unknown method with a CSeq mismatch gets 501 (RFC 4475 §3.1.2.18).
	var m Message
	if err := Parse(wire("FOO sip:bob@example.com SIP/2.0", stdHeaders, ""), &m); err != errCSeqUnknownMethod {
		t.Fatalf("err = %v", err)
	}
}

func TestHasUsableVia(t *testing.T) {
	var m Message
	if err := Parse(invite("CSeq: 99999999999999 INVITE"), &m); err != errCSeq {
		t.Fatalf("err = %v", err)
	}
	if !m.HasUsableVia() || string(m.Via.Branch) != "z9hG4bK776asdhds" || !m.IsRequest() || m.Method() != INVITE {
		t.Fatalf("broken CSeq: usable=%v branch %q", m.HasUsableVia(), m.Via.Branch)
	}
	// A bad start line keeps the method, so that a server never answers an ACK.
	err := Parse(wire("ACK  sip:bob@example.com SIP/2.0", with("CSeq: 1 ACK"), ""), &m)
	if err != errStartLine || m.Method() != ACK || !m.HasUsableVia() {
		t.Fatalf("ACK: err %v method %v usable %v", err, m.Method(), m.HasUsableVia())
	}
}

func TestParseLineFolding(t *testing.T) {
	data := []byte("INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP pc33.example.com\r\n ;branch=z9hG4bK1\r\n" +
		"Subject: lunch\r\n\tat noon\r\n  today\r\n" +
		strings.Join(stdHeaders[1:], "\r\n") + "\r\n\r\n")
	m := mustParse(t, data)
	subj := string(m.Get(HdrSubject))
	if !strings.HasPrefix(subj, "lunch") || !strings.HasSuffix(subj, "today") || strings.ContainsAny(subj, "\r\n") {
		t.Errorf("Subject = %q", subj)
	}
	if strings.Join(strings.Fields(subj), " ") != "lunch at noon today" {
		t.Errorf("Subject words = %q", subj)
	}
	if string(m.Via.Branch) != "z9hG4bK1" {
		t.Errorf("folded Via branch = %q", m.Via.Branch)
	}
	if m.CSeq != 314159 || len(m.Headers()) != 7 {
		t.Errorf("headers after the fold: CSeq %d, %d lines", m.CSeq, len(m.Headers()))
	}
}

func TestValuesAndCount(t *testing.T) {
	data := wire("INVITE sip:bob@example.com SIP/2.0", append(with(),
		"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
		"Contact: \"a, b\" <sip:x@y>, <sip:z@w;p=1,2>",
		"Record-Route: <sip:rr1>",
		"Route: <sip:p3.example.com;lr>",
		"v: SIP/2.0/TCP second.example.com, SIP/2.0/TCP third.example.com",
		"route:  , ",
	), "")
	m := mustParse(t, data)
	var routes []string
	it := m.Values(HdrRoute)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		routes = append(routes, string(v))
	}
	want := "<sip:p1.example.com;lr>|<sip:p2.example.com;lr>|<sip:p3.example.com;lr>"
	if strings.Join(routes, "|") != want {
		t.Errorf("Route values = %q", routes)
	}
	counts := map[HeaderKind]int{HdrRoute: 3, HdrContact: 2, HdrRecordRoute: 1, HdrVia: 3, HdrPath: 0, HdrOther: 0, hkCount + 3: 0}
	for k, n := range counts {
		if got := m.Count(k); got != n {
			t.Errorf("Count(%v) = %d, want %d", k, got, n)
		}
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestHeaderValueAfterStrayCR(t *testing.T) {
	m := mustParse(t, invite("Subject: \r  \t hello \r"))
	if got := string(m.Get(HdrSubject)); got != "hello" {
		t.Fatalf("Subject = %q", got)
	}
}

func TestParseLeadingLineEnds(t *testing.T) {
	for _, prefix := range []string{"\r\n", "\r\n\r\n\r\n", "\n", "\r\n\n"} {
		data := append([]byte(prefix), invite()...)
		var m Message
		if err := Parse(data, &m); err != nil || m.Method() != INVITE {
			t.Errorf("prefix %q: %v", prefix, err)
		}
	}
}

func TestParseBareLF(t *testing.T) {
	data := strings.ReplaceAll(string(invite("Content-Length: 5")), "\r\n", "\n") + "hello"
	m := mustParse(t, []byte(data))
	if string(m.Body()) != "hello" || m.CSeq != 314159 || string(m.CallID) != "a84b4c76e66710@pc33.example.com" {
		t.Fatalf("body %q CSeq %d Call-ID %q", m.Body(), m.CSeq, m.CallID)
	}
	// Mixed line ends, and a fold after a bare LF.
	mixed := "INVITE sip:bob@example.com SIP/2.0\n" + strings.Join(stdHeaders, "\r\n") + "\nSubject: a\n b\n\r\n"
	if m := mustParse(t, []byte(mixed)); strings.Join(strings.Fields(string(m.Get(HdrSubject))), " ") != "a b" {
		t.Fatalf("Subject %q", m.Get(HdrSubject))
	}
}

func TestLimits(t *testing.T) {
	var extra []string
	for i := range 10 {
		extra = append(extra, fmt.Sprintf("X-H%d: %d", i, i))
	}
	data := wire("INVITE sip:bob@example.com SIP/2.0", append(with(), extra...), "")
	n := len(stdHeaders) + len(extra)
	var m Message
	if err := (Limits{MaxHeaders: n}).Parse(append([]byte(nil), data...), &m); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if err := (Limits{MaxHeaders: n - 1}).Parse(append([]byte(nil), data...), &m); err != errTooManyHeaders || !m.HasUsableVia() {
		t.Fatalf("over the limit: %v (usable Via %v)", err, m.HasUsableVia())
	}
	if err := (Limits{MaxHeaders: 1 << 20}).Parse(append([]byte(nil), data...), &m); err != nil {
		t.Fatalf("huge limit: %v", err)
	}

	m = *mustParse(t, invite("Contact: <sip:a@b>, <sip:c@d>", "m: <sip:e@f>", "Route: <sip:r1>, <sip:r2>",
		"Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b, SIP/2.0/UDP c"))
	for _, tt := range []struct {
		max  int
		want error
	}{{3, nil}, {2, errTooManyValues}, {0, nil}} {
		if err := (Limits{MaxValues: tt.max}).Validate(&m); err != tt.want {
			t.Errorf("MaxValues %d: %v, want %v", tt.max, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change string
		want   error
	}{
		{"good lists", "Contact: <sip:a@b>;expires=60, \"x\" <sip:c@d>", nil},
		{"Contact star", "Contact: *", nil},
		{"bad Contact", "Contact: <sip:a@b", errContact},
		{"empty Contact", "Contact:  ", errContact},
		{"Contact with empty param", "Contact: <sip:a@b>;;", errContact},
		{"Contact addr-spec with headers", "Contact: sip:a@b?Route=x", errContact},
		{"bad Route", "Route: sip:a@b, <", errRoute},
		{"bad Record-Route", "Record-Route: <sip:a@b>;lr;", errRecordRoute},
		{"bad second Via", "v: SIP/2.0/UDP ok, SIP/2.0", errVia},
		{"Via list with empty values (RFC 4475 §3.1.2.1)", "v: SIP/2.0/UDP a, ;,", errVia},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, invite(tt.change))
			if err := m.Validate(); err != tt.want {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
	// A header line with no value at all is malformed, even beside good ones.
	for _, tt := range []struct {
		lines []string
		want  error
	}{
		{[]string{"Route:"}, errRoute},
		{[]string{"Route:", "Route: <sip:a;lr>"}, errRoute},
		{[]string{"Record-Route: <sip:a;lr>", "Record-Route:  "}, errRecordRoute},
		{[]string{"Contact:"}, errContact},
		{[]string{"Via:"}, errVia},
		{[]string{"Route: ,"}, errRoute},
	} {
		m := mustParse(t, wire("INVITE sip:bob@example.com SIP/2.0", append(with(), tt.lines...), ""))
		if err := m.Validate(); err != tt.want {
			t.Errorf("%q: %v, want %v", tt.lines, err, tt.want)
		}
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name   string
		cl     string // Content-Length header, "" for none
		data   string // bytes after the empty line
		body   string
		wantCL int
		err    error
	}{
		{"absent: the rest of the datagram", "", "abc", "abc", -1, nil},
		{"absent and empty", "", "", "", -1, nil},
		{"exact", "Content-Length: 3", "abc", "abc", 3, nil},
		{"shorter than the data: truncated", "l: 2", "abcdef", "ab", 2, nil},
		{"zero with trailing bytes", "Content-Length: 0", "\r\nINVITE sip:x SIP/2.0", "", 0, nil},
		{"longer than the data (RFC 4475 §3.1.2.2)", "Content-Length: 9999", "abc", "", 9999, errContentTooLong},
		{"leading zeros", "Content-Length: 003", "abcd", "abc", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdrs := with()
			if tt.cl != "" {
				hdrs = append(hdrs, tt.cl)
			}
			var m Message
			err := Parse(wire("INVITE sip:bob@example.com SIP/2.0", hdrs, tt.data), &m)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && string(m.Body()) != tt.body {
				t.Errorf("body = %q, want %q", m.Body(), tt.body)
			}
			if m.ContentLength != tt.wantCL {
				t.Errorf("ContentLength = %d, want %d", m.ContentLength, tt.wantCL)
			}
		})
	}
}

func TestParseReuse(t *testing.T) {
	var m Message
	if err := Parse(invite("Expires: 60", "Route: <sip:r>", "Content-Length: 0"), &m); err != nil {
		t.Fatal(err)
	}
	m.PushVia([]byte("SIP/2.0/UDP proxy;branch=z9hG4bKp"))
	if err := Parse(wire("SIP/2.0 200 OK", with("Max-Forwards:", "CSeq: 7 BYE"), ""), &m); err != nil {
		t.Fatal(err)
	}
	if m.IsRequest() || m.Expires != -1 || m.MaxForwards != -1 || m.Has(HdrRoute) || m.HasEdits() ||
		m.ContentLength != -1 || m.CSeqMethod != BYE || m.Via.TTL != -1 {
		t.Fatalf("state left over from the first message: %+v", m)
	}
}

func TestParseAllocs(t *testing.T) {
	data, err := os.ReadFile("testdata/invite1k.sip")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(data))
	var m Message
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, data)
		if err := Parse(buf, &m); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times per message", allocs)
	}
}

// TestLimitsFollowTheMessage: Validate and Clone apply the limits a message
// was parsed with, not package defaults, so that a server's configured
// limits reach every later check without a global.
func TestLimitsFollowTheMessage(t *testing.T) {
	contacts := make([]string, 0, 5)
	for i := range 5 {
		contacts = append(contacts, fmt.Sprintf("Contact: <sip:c%d@example.com>", i))
	}
	data := wire("REGISTER sip:example.com SIP/2.0", append(with("CSeq: 1 REGISTER"), contacts...), "")
	tight := Limits{MaxValues: 4}
	var m Message
	if err := tight.Parse(append([]byte(nil), data...), &m); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := m.Validate(); err != errTooManyValues {
		t.Errorf("Validate with MaxValues 4 and 5 Contacts: err = %v, want %v", err, errTooManyValues)
	}
	if err := mustParse(t, append([]byte(nil), data...)).Validate(); err != nil {
		t.Errorf("Validate with default limits: %v", err)
	}

	many := make([]string, 0, DefaultMaxHeaders+10)
	for i := range DefaultMaxHeaders + 10 {
		many = append(many, fmt.Sprintf("X-H%d: v", i))
	}
	big := wire("OPTIONS sip:example.com SIP/2.0", append(with("CSeq: 1 OPTIONS"), many...), "")
	if err := Parse(append([]byte(nil), big...), new(Message)); err != errTooManyHeaders {
		t.Fatalf("default limits: err = %v, want %v", err, errTooManyHeaders)
	}
	wide := Limits{MaxHeaders: 2 * DefaultMaxHeaders}
	var w Message
	if err := wide.Parse(append([]byte(nil), big...), &w); err != nil {
		t.Fatalf("Parse with MaxHeaders %d: %v", wide.MaxHeaders, err)
	}
	if _, err := w.Clone(); err != nil {
		t.Errorf("Clone of a message parsed with wider limits: %v", err)
	}
	if got := DefaultLimits(); got.MaxHeaders != DefaultMaxHeaders || got.MaxValues != DefaultMaxValues {
		t.Errorf("DefaultLimits() = %+v", got)
	}
}
