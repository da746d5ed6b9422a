package sip

import (
	"strings"
	"testing"
)

// editReq is the request the edit tests change: a two-value Via line, Route
// values spread over two lines, and a body.
const editReq = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport, SIP/2.0/TCP second.example.com;branch=z9hG4bK2\r\n" +
	"v: SIP/2.0/UDP third.example.com;branch=z9hG4bK3\r\n" +
	"Max-Forwards: 70\r\n" +
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n" +
	"Route: <sip:p3.example.com;lr>\r\n" +
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n" +
	"To: Bob <sip:bob@biloxi.example.com>\r\n" +
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n" +
	"CSeq: 2 INVITE\r\n" +
	"Record-Route: <sip:rr.example.com;lr>\r\n" +
	"Contact: <sip:alice@client.atlanta.example.com>\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 4\r\n" +
	"\r\n" +
	"test"

// editRes is a response with two Via lines and no reason phrase.
const editRes = "SIP/2.0 180\r\n" +
	"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp, SIP/2.0/UDP client.example.com;branch=z9hG4bKc\r\n" +
	"Via: SIP/2.0/UDP last.example.com;branch=z9hG4bKl\r\n" +
	"From: <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n" +
	"To: <sip:bob@biloxi.example.com>;tag=8321234356\r\n" +
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n" +
	"CSeq: 2 INVITE\r\n" +
	"\r\n"

// edited parses src, applies edit, and returns the serialized result, which
// must parse again; the reparsed message is returned too.
func edited(t *testing.T, src string, edit func(m *Message)) (string, *Message) {
	t.Helper()
	m := mustParse(t, []byte(src))
	edit(m)
	out := string(m.AppendTo(nil))
	re := mustParse(t, []byte(out))
	if err := re.Validate(); err != nil {
		t.Fatalf("edited message does not validate: %v\n%s", err, out)
	}
	return out, re
}

// replaced returns src with old replaced by new exactly once, failing if old is not there.
func replaced(t *testing.T, src, old, new string) string {
	t.Helper()
	if strings.Count(src, old) != 1 {
		t.Fatalf("%q is not in the source exactly once", old)
	}
	return strings.Replace(src, old, new, 1)
}

func values(m *Message, k HeaderKind) string {
	var vs []string
	it := m.Values(k)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		vs = append(vs, string(v))
	}
	return strings.Join(vs, " | ")
}

func TestEditGolden(t *testing.T) {
	const newVia = "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew"
	tests := []struct {
		name string
		src  string
		edit func(m *Message)
		want func(t *testing.T, src string) string
	}{
		{"no edits", editReq, func(*Message) {}, func(_ *testing.T, s string) string { return s }},
		{"PushVia", editReq, func(m *Message) { m.PushVia([]byte(newVia)) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n", "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: "+newVia+"\r\n")
			}},
		{"PopVia from a two-value line", editReq, func(m *Message) { m.PopVia() },
			func(t *testing.T, s string) string {
				return replaced(t, s, "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport, ", "")
			}},
		{"DecrementMaxForwards", editReq, func(m *Message) { m.DecrementMaxForwards() },
			func(t *testing.T, s string) string { return replaced(t, s, "Max-Forwards: 70", "Max-Forwards: 69") }},
		{"SetMaxForwards twice", editReq, func(m *Message) { m.SetMaxForwards(5); m.SetMaxForwards(10) },
			func(t *testing.T, s string) string { return replaced(t, s, "Max-Forwards: 70", "Max-Forwards: 10") }},
		{"AddRecordRoute", editReq, func(m *Message) { m.AddRecordRoute([]byte("<sip:me;lr>")) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "Record-Route: <sip:rr", "Record-Route: <sip:me;lr>\r\nRecord-Route: <sip:rr")
			}},
		{"RemoveTopRoute", editReq, func(m *Message) { m.RemoveTopRoute() },
			func(t *testing.T, s string) string { return replaced(t, s, "<sip:p1.example.com;lr>, ", "") }},
		{"SetRequestURI twice", editReq, func(m *Message) {
			m.SetRequestURI([]byte("sip:first@x"))
			m.SetRequestURI([]byte("sip:bob@192.0.2.4:5062"))
		}, func(t *testing.T, s string) string {
			return replaced(t, s, "INVITE sip:bob@biloxi.example.com SIP", "INVITE sip:bob@192.0.2.4:5062 SIP")
		}},
		{"AddHeader", editReq, func(m *Message) { m.AddHeader("X-A", []byte("1")); m.AddHeader("X-B", []byte("2")) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "Content-Length: 4\r\n", "Content-Length: 4\r\nX-A: 1\r\nX-B: 2\r\n")
			}},
		{"RemoveHeaders", editReq, func(m *Message) { m.RemoveHeaders(HdrRoute) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\nRoute: <sip:p3.example.com;lr>\r\n", "")
			}},
		{"SetBody", editReq, func(m *Message) { m.SetBody([]byte("application/sdp"), []byte("v=0\r\n")) },
			func(t *testing.T, s string) string {
				s = replaced(t, s, "Content-Type: text/plain", "Content-Type: application/sdp")
				return replaced(t, s, "Content-Length: 4\r\n\r\ntest", "Content-Length: 5\r\n\r\nv=0\r\n")
			}},
		{"SetReason without reason", editRes, func(m *Message) { m.SetReason([]byte("Ringing")) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "SIP/2.0 180\r\n", "SIP/2.0 180 Ringing\r\n")
			}},
		{"SetViaReceived with bare rport", editReq, func(m *Message) { m.SetViaReceived([]byte("192.0.2.99"), 40000) },
			func(t *testing.T, s string) string {
				return replaced(t, s, "branch=z9hG4bK74bf9;rport,", "branch=z9hG4bK74bf9;rport=40000;received=192.0.2.99,")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := edited(t, tt.src, tt.edit)
			if want := tt.want(t, tt.src); out != want {
				t.Fatalf("got\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func TestPopVia(t *testing.T) {
	m := mustParse(t, []byte(editReq))
	wants := []string{
		"SIP/2.0/TCP second.example.com;branch=z9hG4bK2 | SIP/2.0/UDP third.example.com;branch=z9hG4bK3",
		"SIP/2.0/UDP third.example.com;branch=z9hG4bK3",
		"",
	}
	for i, want := range wants {
		if !m.PopVia() {
			t.Fatalf("pop %d: nothing to pop", i+1)
		}
		out := m.AppendTo(nil)
		var re Message
		err := Parse(out, &re)
		if got := values(&re, HdrVia); got != want {
			t.Fatalf("after pop %d: Via %q, want %q\n%s", i+1, got, want, out)
		}
		if want == "" && err != errNoVia {
			t.Fatalf("after the last pop: err %v", err)
		}
	}
	if m.PopVia() {
		t.Fatal("popped a Via that is not there")
	}
	// The response case: the proxy pops its own Via before forwarding (§16.7 step 3).
	out, re := edited(t, editRes, func(m *Message) { m.PopVia() })
	if values(re, HdrVia) != "SIP/2.0/UDP client.example.com;branch=z9hG4bKc | SIP/2.0/UDP last.example.com;branch=z9hG4bKl" ||
		!strings.HasPrefix(out, "SIP/2.0 180\r\nVia: SIP/2.0/UDP client.example.com") {
		t.Fatalf("response after PopVia:\n%s", out)
	}
}

func TestRemoveTopRoute(t *testing.T) {
	m := mustParse(t, []byte(editReq))
	wants := []string{
		"<sip:p2.example.com;lr> | <sip:p3.example.com;lr>",
		"<sip:p3.example.com;lr>",
		"",
	}
	for i, want := range wants {
		if !m.RemoveTopRoute() {
			t.Fatalf("remove %d: nothing removed", i+1)
		}
		re := mustParse(t, m.AppendTo(nil))
		if got := values(re, HdrRoute); got != want {
			t.Fatalf("after remove %d: Route %q, want %q", i+1, got, want)
		}
		if want == "" && re.Has(HdrRoute) {
			t.Fatal("an empty Route line is left")
		}
	}
	if m.RemoveTopRoute() {
		t.Fatal("removed a Route that is not there")
	}
	// One value per line, across two lines.
	src := wire("INVITE sip:bob@example.com SIP/2.0", append(with(), "Route: <sip:a;lr>", "Route: <sip:b;lr>"), "")
	m = mustParse(t, src)
	m.RemoveTopRoute()
	if got := values(mustParse(t, m.AppendTo(nil)), HdrRoute); got != "<sip:b;lr>" {
		t.Fatalf("first line: %q", got)
	}
	m.RemoveTopRoute()
	if out := string(m.AppendTo(nil)); strings.Contains(out, "Route") {
		t.Fatalf("second line left:\n%s", out)
	}
}

func TestMaxForwardsEdits(t *testing.T) {
	noMF := string(invite("Max-Forwards:", "Content-Length: 0"))
	out, re := edited(t, noMF, func(m *Message) { m.DecrementMaxForwards(); m.DecrementMaxForwards() })
	if re.MaxForwards != 70 || strings.Count(out, "Max-Forwards") != 1 ||
		!strings.HasSuffix(out, "Content-Length: 0\r\nMax-Forwards: 70\r\n\r\n") {
		t.Fatalf("absent Max-Forwards (§16.6 step 3):\n%s", out)
	}
	_, re = edited(t, noMF, func(m *Message) { m.SetMaxForwards(3); m.SetMaxForwards(4) })
	if re.MaxForwards != 4 {
		t.Fatalf("SetMaxForwards on absent header: %d", re.MaxForwards)
	}
	_, re = edited(t, string(invite("Max-Forwards: 0")), func(m *Message) { m.DecrementMaxForwards() })
	if re.MaxForwards != 0 {
		t.Fatalf("Max-Forwards 0 decremented to %d", re.MaxForwards)
	}
	_, re = edited(t, string(invite("Max-Forwards: 10")), func(m *Message) { m.DecrementMaxForwards(); m.DecrementMaxForwards() })
	if re.MaxForwards != 9 {
		t.Fatalf("decrementing twice counts from the parsed value: %d", re.MaxForwards)
	}
}

func TestReasonEdits(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"SIP/2.0 200 OK", "SIP/2.0 200 Fine"},
		{"SIP/2.0 100 ", "SIP/2.0 100 Fine"},
		{"SIP/2.0 100", "SIP/2.0 100 Fine"},
		{"SIP/2.0 486 Busy Here", "SIP/2.0 486 Fine"},
	} {
		out, re := edited(t, string(wire(tt.line, stdHeaders, "")), func(m *Message) {
			m.SetReason([]byte("first"))
			m.SetReason([]byte("Fine"))
		})
		if !strings.HasPrefix(out, tt.want+"\r\n") || string(re.Reason()) != "Fine" {
			t.Errorf("%q: got %q", tt.line, strings.SplitN(out, "\r\n", 2)[0])
		}
	}
}

func TestHeaderEdits(t *testing.T) {
	out, re := edited(t, editReq, func(m *Message) {
		m.RemoveHeaders(HdrContact)
		m.RemoveHeaders(HdrRecordRoute)
		m.AddHeader("Contact", []byte("<sip:new@host>"))
	})
	if values(re, HdrContact) != "<sip:new@host>" || re.Has(HdrRecordRoute) || strings.Contains(out, "client.atlanta.example.com>") {
		t.Fatalf("got\n%s", out)
	}
	// Removing a header kind and inserting one of the same kind: the new line survives.
	_, re = edited(t, editReq, func(m *Message) { m.RemoveHeaders(HdrVia); m.PushVia([]byte("SIP/2.0/UDP only;branch=z9hG4bKo")) })
	if values(re, HdrVia) != "SIP/2.0/UDP only;branch=z9hG4bKo" {
		t.Fatalf("Via: %q", values(re, HdrVia))
	}
	_, re = edited(t, editReq, func(m *Message) { m.AddRecordRoute([]byte("<sip:a;lr>")); m.RemoveHeaders(HdrRecordRoute) })
	if values(re, HdrRecordRoute) != "<sip:a;lr>" {
		t.Fatalf("Record-Route: %q", values(re, HdrRecordRoute))
	}
	// With no Route or Record-Route yet, the new one goes on top of the headers.
	bare := string(invite("Content-Length: 0"))
	out, re = edited(t, bare, func(m *Message) { m.PushRoute([]byte("<sip:r;lr>")); m.AddRecordRoute([]byte("<sip:rr;lr>")) })
	if values(re, HdrRoute) != "<sip:r;lr>" || values(re, HdrRecordRoute) != "<sip:rr;lr>" ||
		!strings.HasPrefix(out, "INVITE sip:bob@example.com SIP/2.0\r\nRoute: <sip:r;lr>\r\nRecord-Route: <sip:rr;lr>\r\nVia:") {
		t.Fatalf("got\n%s", out)
	}
	_, re = edited(t, editReq, func(m *Message) { m.PushRoute([]byte("<sip:path;lr>")) })
	if !strings.HasPrefix(values(re, HdrRoute), "<sip:path;lr> | <sip:p1") {
		t.Fatalf("PushRoute: %q", values(re, HdrRoute))
	}
}

func TestPushAndPopVia(t *testing.T) {
	const mine = "SIP/2.0/UDP me.example.com;branch=z9hG4bKme"
	want := mine + " | SIP/2.0/UDP third.example.com;branch=z9hG4bK3"
	orders := map[string]func(m *Message){
		"push then pop":  func(m *Message) { m.PushVia([]byte(mine)); m.PopVia(); m.PopVia() },
		"pop then push":  func(m *Message) { m.PopVia(); m.PopVia(); m.PushVia([]byte(mine)) },
		"pop, push, pop": func(m *Message) { m.PopVia(); m.PushVia([]byte(mine)); m.PopVia() },
	}
	for name, edit := range orders {
		if _, re := edited(t, editReq, edit); values(re, HdrVia) != want {
			t.Errorf("%s: Via %q", name, values(re, HdrVia))
		}
	}
	// An insertion right after a removed line stays (it belongs to the next line).
	src := string(invite("Content-Length: 0"))
	src = strings.Replace(src, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRecord-Route: <sip:old>\r\n", 1)
	src = strings.Replace(src, "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n",
		"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\nVia: SIP/2.0/UDP second\r\n", 1)
	_, re := edited(t, src, func(m *Message) { m.AddRecordRoute([]byte("<sip:new>")); m.PopVia() })
	if values(re, HdrRecordRoute) != "<sip:new> | <sip:old>" || values(re, HdrVia) != "SIP/2.0/UDP second" {
		t.Fatalf("RR %q Via %q", values(re, HdrRecordRoute), values(re, HdrVia))
	}
}

func TestBodyEdits(t *testing.T) {
	noCL := string(wire("MESSAGE sip:bob@example.com SIP/2.0", with("CSeq: 1 MESSAGE"), "hello"))
	out, re := edited(t, noCL, func(m *Message) { m.EnsureContentLength(); m.EnsureContentLength() })
	if re.ContentLength != 5 || strings.Count(out, "Content-Length") != 1 || string(re.Body()) != "hello" {
		t.Fatalf("EnsureContentLength:\n%s", out)
	}
	out, re = edited(t, editReq, func(m *Message) { m.EnsureContentLength() })
	if out != editReq || re.ContentLength != 4 {
		t.Fatalf("EnsureContentLength with the header present changed the message:\n%s", out)
	}
	out, re = edited(t, noCL, func(m *Message) {
		m.EnsureContentLength()
		m.SetBody([]byte("text/plain"), []byte("first"))
		m.SetBody([]byte("text/html"), []byte("<p>hi</p>"))
	})
	if string(re.Body()) != "<p>hi</p>" || re.ContentLength != 9 || string(re.Get(HdrContentType)) != "text/html" ||
		strings.Count(out, "Content-Length") != 1 || strings.Count(out, "Content-Type") != 1 {
		t.Fatalf("SetBody twice without Content-Length:\n%s", out)
	}
	_, re = edited(t, editReq, func(m *Message) { m.SetBody(nil, nil) })
	if len(re.Body()) != 0 || re.ContentLength != 0 || string(re.Get(HdrContentType)) != "text/plain" {
		t.Fatalf("SetBody(nil, nil): body %q CL %d", re.Body(), re.ContentLength)
	}
	empty := string(invite("Content-Length: 0"))
	_, re = edited(t, empty, func(m *Message) { m.SetBody([]byte("a/b"), []byte("x")); m.SetBody([]byte("a/b"), []byte("yz")) })
	if string(re.Body()) != "yz" || re.ContentLength != 2 {
		t.Fatalf("SetBody twice on an empty body: %q", re.Body())
	}
}

func TestSetViaReceived(t *testing.T) {
	tests := []struct {
		name, via string
		recv      string
		rport     int
		want      string // the top Via after the edit
		wantRecv  string
		wantRPort string
	}{
		{"bare rport", "SIP/2.0/UDP h;rport;branch=z9hG4bK1", "192.0.2.1", 5070,
			"SIP/2.0/UDP h;rport=5070;branch=z9hG4bK1;received=192.0.2.1", "192.0.2.1", "5070"},
		{"rport with LWS", "SIP/2.0/UDP h ; rport ; branch=z9hG4bK1", "192.0.2.1", 5070,
			"SIP/2.0/UDP h ; rport=5070 ; branch=z9hG4bK1;received=192.0.2.1", "192.0.2.1", "5070"},
		{"rport with a value stays", "SIP/2.0/UDP h;rport=1234;branch=z9hG4bK1", "192.0.2.1", 5070,
			"SIP/2.0/UDP h;rport=1234;branch=z9hG4bK1;received=192.0.2.1", "192.0.2.1", "1234"},
		{"no rport", "SIP/2.0/UDP h;branch=z9hG4bK1", "192.0.2.1", 5070,
			"SIP/2.0/UDP h;branch=z9hG4bK1;received=192.0.2.1", "192.0.2.1", ""},
		{"rport only", "SIP/2.0/UDP h;rport", "", 5070, "SIP/2.0/UDP h;rport=5070", "", "5070"},
		{"IPv6 received", "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1", "2001:db8::9:255", 0,
			"SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1;received=2001:db8::9:255", "2001:db8::9:255", ""},
		{"IPv6 received with []", "SIP/2.0/UDP h;branch=z9hG4bK1", "[2001:db8::1]", 0,
			"SIP/2.0/UDP h;branch=z9hG4bK1;received=[2001:db8::1]", "[2001:db8::1]", ""},
		{"existing received replaced", "SIP/2.0/UDP h;received=10.0.0.1;branch=z9hG4bK1", "192.0.2.1", 0,
			"SIP/2.0/UDP h;received=192.0.2.1;branch=z9hG4bK1", "192.0.2.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(invite("Via: "+tt.via, "Content-Length: 0"))
			_, re := edited(t, src, func(m *Message) {
				m.SetViaReceived([]byte("203.0.113.9"), 1) // replaced by the second call
				m.SetViaReceived([]byte(tt.recv), tt.rport)
			})
			if string(re.Via.Raw) != tt.want || string(re.Via.Received) != tt.wantRecv || string(re.Via.RPort) != tt.wantRPort {
				t.Fatalf("Via %q (received %q rport %q), want %q", re.Via.Raw, re.Via.Received, re.Via.RPort, tt.want)
			}
		})
	}
	// Only the top value of a two-value line changes.
	_, re := edited(t, editReq, func(m *Message) { m.SetViaReceived([]byte("192.0.2.1"), 0) })
	if values(re, HdrVia) != "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport=0;received=192.0.2.1 | "+
		"SIP/2.0/TCP second.example.com;branch=z9hG4bK2 | SIP/2.0/UDP third.example.com;branch=z9hG4bK3" {
		t.Fatalf("Via: %q", values(re, HdrVia))
	}
}

func TestResetEdits(t *testing.T) {
	m := mustParse(t, []byte(editReq))
	m.PushVia([]byte("SIP/2.0/UDP a;branch=z9hG4bKa"))
	m.PopVia()
	m.RemoveTopRoute()
	m.SetRequestURI([]byte("sip:a@a"))
	m.DecrementMaxForwards()
	if !m.HasEdits() {
		t.Fatal("HasEdits is false")
	}
	m.ResetEdits()
	if m.HasEdits() || string(m.AppendTo(nil)) != editReq {
		t.Fatal("ResetEdits left edits behind")
	}
	// A second branch with its own edits: the counters of PopVia and RemoveTopRoute restart too.
	m.SetRequestURI([]byte("sip:b@b"))
	m.RemoveTopRoute()
	m.PushVia([]byte("SIP/2.0/UDP b;branch=z9hG4bKb"))
	re := mustParse(t, m.AppendTo(nil))
	if string(re.RequestURI()) != "sip:b@b" || !strings.HasPrefix(values(re, HdrRoute), "<sip:p2.example.com;lr>") ||
		string(re.Via.Host) != "b" || re.Count(HdrVia) != 4 || re.MaxForwards != 70 {
		t.Fatalf("second branch:\n%s", m.AppendTo(nil))
	}
	// The accessors still return the values as parsed.
	if string(m.RequestURI()) != "sip:bob@biloxi.example.com" || m.MaxForwards != 70 {
		t.Fatal("an edit changed a parsed accessor")
	}
}

func TestForwardingEdits(t *testing.T) {
	out, re := edited(t, editReq, func(m *Message) {
		m.PushVia([]byte("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKparley"))
		m.DecrementMaxForwards()
		m.AddRecordRoute([]byte("<sip:127.0.0.1:5060;lr>"))
		m.RemoveTopRoute()
		m.SetRequestURI([]byte("sip:bob@192.0.2.200:5062"))
	})
	if string(re.RequestURI()) != "sip:bob@192.0.2.200:5062" || re.MaxForwards != 69 || string(re.Via.Host) != "127.0.0.1" ||
		re.Count(HdrVia) != 4 || re.Count(HdrRoute) != 2 || re.Count(HdrRecordRoute) != 2 || string(re.Body()) != "test" {
		t.Fatalf("forwarded:\n%s", out)
	}
	// Everything the edits did not touch is byte for byte the same.
	for _, line := range []string{"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n", "To: Bob <sip:bob@biloxi.example.com>\r\n",
		"Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 2 INVITE\r\n", "Contact: <sip:alice@client.atlanta.example.com>\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ntest"} {
		if !strings.Contains(out, line) {
			t.Errorf("untouched bytes changed: %q missing", line)
		}
	}
}

func TestAppendToFailedParse(t *testing.T) {
	var m Message
	if err := Parse([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"), &m); err == nil {
		t.Fatal("parsed")
	}
	m.PushVia([]byte("x"))
	m.AddHeader("X", []byte("y"))
	_ = m.AppendTo(nil) // must not panic
}
