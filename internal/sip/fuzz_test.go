package sip

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse is seeded with every torture message and testdata/invite1k.sip.
// Parse must not panic. When it accepts a message, Validate must not panic,
// the message with forwarding edits applied must parse again, and so must the
// response AppendResponse builds for a request. One exception: Parse checks
// only the top Via (the rest is Validate's job), so when Validate fails,
// popping the top Via may expose a bad one and the reparse may fail with
// errVia. A proxy validates a response before relaying it, since it must read
// the next Via to send it on (RFC 3261 §16.7 step 3, §18.2.2).
// Crashers found are kept under testdata/fuzz/FuzzParse and as named cases in
// TestFuzzRegressions.
func FuzzParse(f *testing.F) {
	for _, g := range []string{"rfc4475/*.dat", "rfc4475/extras/*.dat", "rfc5118/*.dat"} {
		files, _ := filepath.Glob(conformanceDir + g)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	if data, err := os.ReadFile("testdata/invite1k.sip"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(editReq))
	f.Add([]byte(editRes))
	f.Fuzz(func(t *testing.T, data []byte) { checkParseInvariants(t, data) })
}

// checkParseInvariants is the body of FuzzParse.
func checkParseInvariants(t *testing.T, data []byte) {
	buf := append([]byte(nil), data...) // Parse folds lines in place
	var m Message
	if err := Parse(buf, &m); err != nil {
		if m.IsRequest() && m.HasUsableVia() {
			checkStatelessAnswer(t, data, &m)
		}
		return
	}
	valid := m.Validate() == nil
	out := forwardEdits(&m)
	var re Message
	err := Parse(out, &re)
	if err != nil && (valid || err != errVia) {
		t.Fatalf("edited message does not parse: %v\ninput:\n%q\noutput:\n%q", err, data, out)
	}
	if valid && err == nil {
		if err := re.Validate(); err != nil {
			t.Fatalf("edited message does not validate: %v\ninput:\n%q\noutput:\n%q", err, data, out)
		}
	}
	if !m.IsRequest() {
		return
	}
	for _, res := range [][]byte{
		AppendResponse(nil, &m, 486, "", []byte("fuzz"), nil, "", nil),
		AppendResponseReceived(nil, &m, 400, "", []byte("fuzz"), nil, []byte("192.0.2.9"), 5062),
	} {
		if err := Parse(res, &re); err != nil {
			t.Fatalf("response does not parse: %v\ninput:\n%q\nresponse:\n%q", err, data, res)
		}
	}
}

// checkStatelessAnswer checks the answer to a request that did not parse but
// has a usable Via: its status line and top Via must be readable, even if the
// headers copied from the request are as malformed as they were.
func checkStatelessAnswer(t *testing.T, data []byte, m *Message) {
	for _, res := range [][]byte{
		AppendResponse(nil, m, 400, "", []byte("t"), nil, "", nil),
		AppendResponseReceived(nil, m, 400, "", []byte("t"), nil, []byte("192.0.2.9"), 5062),
	} {
		var re Message
		err := Parse(res, &re)
		if re.StatusCode() != 400 || !re.HasUsableVia() {
			t.Fatalf("stateless answer unusable (%v)\ninput:\n%q\nresponse:\n%q", err, data, res)
		}
	}
}

// forwardEdits applies what a proxy does to a request, or to a response it
// relays, and serializes the result.
func forwardEdits(m *Message) []byte {
	if m.IsRequest() {
		m.PushVia([]byte("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz"))
		m.DecrementMaxForwards()
		m.RemoveTopRoute()
		m.AddRecordRoute([]byte("<sip:192.0.2.1;lr>"))
		m.SetViaReceived([]byte("192.0.2.9"), 5062)
		return m.AppendTo(nil)
	}
	if m.Count(HdrVia) > 1 {
		m.PopVia()
	}
	m.SetReason([]byte("Fuzzed"))
	return m.AppendTo(nil)
}

// FuzzParseURI checks that the URI, name-addr and Via parsers never panic, and
// that an accepted URI is also accepted inside <> and has a host when it is SIP.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"sip:alice@example.com", "sips:bob:pw@[2001:db8::1]:5061;transport=tcp?subject=x", "tel:+1-201-555-0123",
		"sip:[2001:db8:::192.0.2.1]", "sip:user;par=u%40example.net@example.com", "nobodyKnowsThisScheme:x",
		`"A \"B\"" <sip:a@b>;tag=1`, "SIP / 2.0 / UDP h:5060 ; branch = z9hG4bK1 ; rport", "sip:%ZZ@h",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseNameAddr(data)
		_, _ = ParseVia(data)
		_, _ = Param(data, "tag")
		for rest := data; len(rest) > 0; {
			_, rest = splitComma(rest)
		}
		u, err := ParseURI(data)
		if err != nil {
			return
		}
		if len(u.Scheme) == 0 || (u.IsSIP() && len(u.Host) == 0) || u.Port < 0 || u.Port > 65535 {
			t.Fatalf("ParseURI(%q) = %+v", data, u)
		}
		n, err := ParseNameAddr([]byte("<" + string(data) + ">"))
		if err != nil || !bytes.Equal(n.URI, data) {
			t.Fatalf("<%s> is not a name-addr: %v", data, err)
		}
	})
}

// TestFuzzRegressions replays the inputs the fuzzers once crashed on.
func TestFuzzRegressions(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		// testdata/fuzz/FuzzParse/348623000bc56346: PopVia on a response whose
		// second Via value ("0") was never validated.
		{"pop exposes an unvalidated Via", "SIP/2.0 100 \nV:SIP/0/0 0,0\nCAll-ID:0\nCSeq:0 0\nF:A:0\nT:A:00\n\n"},
		// testdata/fuzz/FuzzParse/6ac837edd0a19571: `"A:0>` was taken for a
		// name-addr (the unclosed quote's '"' read as '<'), and an empty
		// Route line passed Validate until RemoveTopRoute took the other one.
		{"unclosed quote and empty Route line", "INVITE A:0 SIP/2.0\nv:SIP/0/0 0\nRoute:\nF:\"A:0>\nT:\"A:0>\nCAll-ID:0\nCSeq:0 INVITE\nRoute:\"A:0>\n\n0"},
		// testdata/fuzz/FuzzParse/449da87e42324a43: a stray CR before a header
		// value was trimmed from the value but not skipped in its offset, so
		// the value read back shifted and cut short.
		{"stray CR before a header value", "0\nV:  \r   SIP/0/0 0000000\n"},
		{"empty Route line beside a good one", "INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nRoute:\nFrom: <sip:a@b>\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 1 INVITE\nRoute: <sip:r;lr>\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParseInvariants(t, []byte(tt.in)) })
	}
}
