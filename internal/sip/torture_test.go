package sip

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The RFC 4475 and RFC 5118 torture messages, one row per file of the shared
// conformance corpus. Each row records what the RFC says the message is, which
// of Parley's checks rejects it, and how a server answers it; a later
// end-to-end test replays the same table against a running server.

// conformanceDir is the shared corpus, seen from this package's directory.
const conformanceDir = "../../../shared/conformance/"

// The check that rejects a message.
const (
	atParse    = "Parse"
	atValidate = "Validate"
)

// drop is the serverCode of a message that gets no answer: a response (a
// server never answers one) or a request without a Via to answer to.
const drop = -1

type tortureCase struct {
	file    string // path under conformanceDir
	section string
	// code is 0 for a valid message (Parse and Validate both return nil);
	// otherwise the ParseError.Code that stage returns.
	code  int
	stage string
	// serverCode is what a server sends back: 0 for ordinary processing,
	// drop, or the status the RFC asks for.
	serverCode int
	rfc        string                         // what the RFC says, in short
	check      func(t *testing.T, m *Message) // optional checks on a parsed message
}

var tortureCases = []tortureCase{
	// RFC 4475 §3.1.1: valid messages; a parser must accept each one.
	{file: "rfc4475/wsinv.dat", section: "RFC 4475 §3.1.1.1",
		rfc: "valid: LWS everywhere, folding, compact and odd-case names, escaped quotes, leading zeros", check: checkWsinv},
	{file: "rfc4475/intmeth.dat", section: "RFC 4475 §3.1.1.2",
		rfc: "valid: token characters everywhere, unknown method", check: checkIntmeth},
	{file: "rfc4475/esc01.dat", section: "RFC 4475 §3.1.1.3",
		rfc: "valid: % escapes in user parts and URI parameters", check: checkEsc01},
	{file: "rfc4475/escnull.dat", section: "RFC 4475 §3.1.1.4",
		rfc: "valid: escaped NULs in URIs; two Contacts", check: wantCount(HdrContact, 2)},
	{file: "rfc4475/esc02.dat", section: "RFC 4475 §3.1.1.5",
		rfc: "valid: % that is not an escape; method is not REGISTER; two Contacts, not three", check: checkEsc02},
	{file: "rfc4475/lwsdisp.dat", section: "RFC 4475 §3.1.1.6",
		rfc: "valid: no LWS between display name and <", check: checkLwsdisp},
	{file: "rfc4475/longreq.dat", section: "RFC 4475 §3.1.1.7",
		rfc: "valid: long values, 34 Via values in mixed-case names", check: wantCount(HdrVia, 34)},
	{file: "rfc4475/dblreq.dat", section: "RFC 4475 §3.1.1.8",
		rfc: "valid: a REGISTER; the INVITE-looking octets after Content-Length are ignored (RFC 3261 §18.3)", check: checkDblreq},
	{file: "rfc4475/semiuri.dat", section: "RFC 4475 §3.1.1.9",
		rfc: "valid: user part \"user;par=u%40example.net\"", check: checkSemiuri},
	{file: "rfc4475/transports.dat", section: "RFC 4475 §3.1.1.10",
		rfc: "valid: known and unknown Via transports", check: checkTransports},
	{file: "rfc4475/mpart01.dat", section: "RFC 4475 §3.1.1.11",
		rfc: "valid: multipart body with binary part", check: checkMpart01},
	{file: "rfc4475/unreason.dat", section: "RFC 4475 §3.1.1.12",
		rfc: "valid: unusual UTF-8 reason phrase", check: checkUnreason},
	{file: "rfc4475/noreason.dat", section: "RFC 4475 §3.1.1.13",
		rfc: "valid: empty reason phrase", check: checkNoreason},

	// RFC 4475 §3.1.2: invalid messages.
	{file: "rfc4475/badinv01.dat", section: "RFC 4475 §3.1.2.1", code: 400, stage: atParse, serverCode: 400,
		rfc: "extra ; and , in Via and Contact: 400"},
	{file: "rfc4475/clerr.dat", section: "RFC 4475 §3.1.2.2", code: 400, stage: atParse, serverCode: 400,
		rfc: "Content-Length larger than the datagram: 400"},
	{file: "rfc4475/ncl.dat", section: "RFC 4475 §3.1.2.3", code: 400, stage: atParse, serverCode: 400,
		rfc: "negative Content-Length: an error response"},
	{file: "rfc4475/scalar02.dat", section: "RFC 4475 §3.1.2.4", code: 400, stage: atParse, serverCode: 400,
		rfc: "overlarge CSeq, Max-Forwards, Expires: 400 for the CSeq"},
	{file: "rfc4475/scalarlg.dat", section: "RFC 4475 §3.1.2.5", code: 400, stage: atParse, serverCode: drop,
		rfc: "response with overlarge scalars: discard it"},
	{file: "rfc4475/quotbal.dat", section: "RFC 4475 §3.1.2.6", code: 400, stage: atParse, serverCode: 400,
		rfc: "unterminated quoted display name: 400"},
	{file: "rfc4475/ltgtruri.dat", section: "RFC 4475 §3.1.2.7", code: 400, stage: atParse, serverCode: 400,
		rfc: "Request-URI in <>: reasonable always to reject with 400"},
	{file: "rfc4475/lwsruri.dat", section: "RFC 4475 §3.1.2.8", code: 400, stage: atParse, serverCode: 400,
		rfc: "LWS inside the Request-URI: 400"},
	{file: "rfc4475/lwsstart.dat", section: "RFC 4475 §3.1.2.9", code: 400, stage: atParse, serverCode: 400,
		rfc: "several SP between Request-Line elements: acceptable to reject (Parley does)"},
	{file: "rfc4475/trws.dat", section: "RFC 4475 §3.1.2.10", code: 400, stage: atParse, serverCode: 400,
		rfc: "SP at the end of the Request-Line: acceptable to reject (Parley does)"},
	{file: "rfc4475/escruri.dat", section: "RFC 4475 §3.1.2.11", code: 400, stage: atParse, serverCode: 400,
		rfc: "escaped headers in the Request-URI: acceptable to reject with 400 (Parley does)"},
	{file: "rfc4475/baddate.dat", section: "RFC 4475 §3.1.2.12", serverCode: 0,
		rfc: "non-GMT Date: reject only if Date matters to the element; Parley ignores Date, so it accepts"},
	{file: "rfc4475/regbadct.dat", section: "RFC 4475 §3.1.2.13", code: 400, stage: atValidate, serverCode: 400,
		rfc: "Contact URI with headers not in <>: reasonable to answer 400"},
	{file: "rfc4475/badaspec.dat", section: "RFC 4475 §3.1.2.14", code: 400, stage: atParse, serverCode: 400,
		rfc: "spaces inside <> of the To addr-spec: reasonable to reject with 400"},
	{file: "rfc4475/baddn.dat", section: "RFC 4475 §3.1.2.15", code: 400, stage: atParse, serverCode: 400,
		rfc: "unquoted display names with non-token characters: 400 (this archive copy also lacks the closing empty line)"},
	{file: "rfc4475/badvers.dat", section: "RFC 4475 §3.1.2.16", code: 505, stage: atParse, serverCode: 505,
		rfc: "SIP/7.0: 505 Version Not Supported"},
	{file: "rfc4475/mismatch01.dat", section: "RFC 4475 §3.1.2.17", code: 400, stage: atParse, serverCode: 400,
		rfc: "CSeq method differs from the start line: 400"},
	{file: "rfc4475/mismatch02.dat", section: "RFC 4475 §3.1.2.18", code: 501, stage: atParse, serverCode: 501,
		rfc: "unknown method and CSeq mismatch: 501 (400 acceptable)"},
	{file: "rfc4475/bigcode.dat", section: "RFC 4475 §3.1.2.19", code: 400, stage: atParse, serverCode: drop,
		rfc: "status code above 699: drop the response"},

	// RFC 4475 §3.2: transaction layer.
	{file: "rfc4475/badbranch.dat", section: "RFC 4475 §3.2.1", serverCode: 0,
		rfc: "branch is the bare magic cookie: parse it; reject with 400 or fall back to RFC 2543 matching", check: checkBadbranch},

	// RFC 4475 §3.3: application layer; all are valid syntax.
	{file: "rfc4475/insuf.dat", section: "RFC 4475 §3.3.1", code: 400, stage: atParse, serverCode: 400,
		rfc: "no Call-ID, From or To: must not break; ideally 400"},
	{file: "rfc4475/unkscm.dat", section: "RFC 4475 §3.3.2", serverCode: 416,
		rfc: "well-formed; unknown Request-URI scheme: 416", check: wantScheme("nobodyKnowsThisScheme")},
	{file: "rfc4475/novelsc.dat", section: "RFC 4475 §3.3.3", serverCode: 416,
		rfc: "well-formed; a scheme the element never accepts is treated as unknown: 416", check: wantScheme("soap.beep")},
	{file: "rfc4475/unksm2.dat", section: "RFC 4475 §3.3.4", serverCode: 400,
		rfc: "valid; a proxy routes it as usual, a registrar answers 400 (To is not a SIP or SIPS AOR)"},
	{file: "rfc4475/bext01.dat", section: "RFC 4475 §3.3.5", serverCode: 420,
		rfc: "unknown Require/Proxy-Require options: 420 with Unsupported", check: checkBext01},
	{file: "rfc4475/invut.dat", section: "RFC 4475 §3.3.6", serverCode: 0,
		rfc: "unknown Content-Type: a proxy forwards it as usual (a UAS would answer 415)"},
	{file: "rfc4475/regaut01.dat", section: "RFC 4475 §3.3.7", serverCode: 0,
		rfc: "unknown Authorization scheme: processed as if absent, or 401 with a known scheme when authenticating"},
	{file: "rfc4475/multi01.dat", section: "RFC 4475 §3.3.8", code: 400, stage: atParse, serverCode: 400,
		rfc: "several values in single-value headers: 400"},
	{file: "rfc4475/mcl01.dat", section: "RFC 4475 §3.3.9", code: 400, stage: atParse, serverCode: 400,
		rfc: "two Content-Length values: an error (UDP); close the connection on TCP"},
	{file: "rfc4475/bcast.dat", section: "RFC 4475 §3.3.10", serverCode: drop,
		rfc: "well-formed response whose next Via is broadcast: a proxy drops it", check: checkBcast},
	{file: "rfc4475/zeromf.dat", section: "RFC 4475 §3.3.11", serverCode: 483,
		rfc: "Max-Forwards 0: a proxy does not forward it and answers 483", check: checkZeromf},
	{file: "rfc4475/cparam01.dat", section: "RFC 4475 §3.3.12", serverCode: 200,
		rfc: "REGISTER succeeds; unknownparam is a Contact header parameter, not a URI parameter", check: checkCparam01},
	{file: "rfc4475/cparam02.dat", section: "RFC 4475 §3.3.13", serverCode: 200,
		rfc: "REGISTER succeeds; unknownparam is a URI parameter", check: checkCparam02},
	{file: "rfc4475/regescrt.dat", section: "RFC 4475 §3.3.14", serverCode: 200,
		rfc: "REGISTER succeeds; the binding keeps the escaped Route header in its URI", check: checkRegescrt},
	{file: "rfc4475/sdp01.dat", section: "RFC 4475 §3.3.15", serverCode: 0,
		rfc: "Accept without application/sdp: a proxy forwards it (a UAS answers 406, or 400)"},

	// RFC 4475 §3.4: backward compatibility.
	{file: "rfc4475/inv2543.dat", section: "RFC 4475 §3.4.1", serverCode: 0,
		rfc: "RFC 2543 syntax (no branch, no From tag, no Max-Forwards): accept it", check: checkInv2543},

	// The archive's extra files.
	{file: "rfc4475/extras/baddn-with-blank-line.dat", section: "RFC 4475 §3.1.2.15", code: 400, stage: atParse, serverCode: 400,
		rfc: "unquoted display names with non-token characters: 400"},
	{file: "rfc4475/extras/test.dat", section: "RFC 4475 archive (unreferenced)", code: 400, stage: atParse, serverCode: drop,
		rfc: "not in the RFC text; no SIP-Version on the Request-Line (RFC 3261 §7.1), and no Via to answer to"},

	// RFC 5118: IPv6. Everything is valid except §4.2.
	{file: "rfc5118/ipv6-good.dat", section: "RFC 5118 §4.1",
		rfc: "valid IPv6 references", check: wantRURIHost("[2001:db8::10]", 0)},
	{file: "rfc5118/ipv6-bad.dat", section: "RFC 5118 §4.2", code: 400, stage: atParse, serverCode: 400,
		rfc: "IPv6 Request-URI host without []: 400"},
	{file: "rfc5118/port-ambiguous.dat", section: "RFC 5118 §4.3",
		rfc: "well-formed; 5070 is part of the address, not a port", check: wantRURIHost("[2001:db8::10:5070]", 0)},
	{file: "rfc5118/port-unambiguous.dat", section: "RFC 5118 §4.4",
		rfc: "valid; port 5070", check: wantRURIHost("[2001:db8::10]", 5070)},
	{file: "rfc5118/via-received-param-with-delim.dat", section: "RFC 5118 §4.5",
		rfc: "must parse: received with []", check: wantReceived("[2001:db8::9:255]")},
	{file: "rfc5118/via-received-param-no-delim.dat", section: "RFC 5118 §4.5",
		rfc: "must parse: received without []", check: wantReceived("2001:db8::9:255")},
	{file: "rfc5118/ipv6-in-sdp.dat", section: "RFC 5118 §4.6",
		rfc: "valid; IPv6 in the SDP body"},
	{file: "rfc5118/mult-ip-in-header.dat", section: "RFC 5118 §4.7",
		rfc: "valid; IPv4 and IPv6 in Via", check: checkMultIPHeader},
	{file: "rfc5118/mult-ip-in-sdp.dat", section: "RFC 5118 §4.8",
		rfc: "valid; IPv4 and IPv6 in the SDP body"},
	{file: "rfc5118/ipv4-mapped-ipv6.dat", section: "RFC 5118 §4.9",
		rfc: "must parse IPv4-mapped IPv6 addresses", check: checkMapped},
	{file: "rfc5118/ipv6-bug-abnf-3-colons.dat", section: "RFC 5118 §4.10",
		rfc: "must tolerate the extra colon RFC 3261's ABNF allows", check: wantRURIHost("[2001:db8:::192.0.2.1]", 0)},
	{file: "rfc5118/ipv6-correct-abnf-2-colons.dat", section: "RFC 5118 §4.10",
		rfc: "valid", check: wantRURIHost("[2001:db8::192.0.2.1]", 0)},
}

func TestTorture(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skipf("conformance corpus not found at %s (it lives in shared/, beside the repository): %v", conformanceDir, err)
	}
	checkTortureCoverage(t)
	for _, tc := range tortureCases {
		t.Run(strings.TrimSuffix(tc.file, ".dat"), func(t *testing.T) {
			data, err := os.ReadFile(conformanceDir + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var m Message
			stage, code := runChecks(data, &m)
			if stage != tc.stage || code != tc.code {
				t.Fatalf("%s (%s): got %s %d, want %s %d", tc.section, tc.rfc, stage, code, tc.stage, tc.code)
			}
			if tc.check != nil {
				tc.check(t, &m)
			}
			checkAnswerable(t, tc, &m)
		})
	}
}

// runChecks parses data and validates it, and reports which check failed with which code.
func runChecks(data []byte, m *Message) (stage string, code int) {
	if err := Parse(data, m); err != nil {
		return atParse, errCode(err)
	}
	if err := m.Validate(); err != nil {
		return atValidate, errCode(err)
	}
	return "", 0
}

func errCode(err error) int {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Code()
	}
	return -1
}

// checkAnswerable checks that a request the server must answer can be answered:
// it has a usable Via, and the response AppendResponse builds carries the
// status and every Via value. (Its other headers are copied as they came, so
// the response to a malformed request may be malformed in the same way.)
func checkAnswerable(t *testing.T, tc tortureCase, m *Message) {
	t.Helper()
	if tc.serverCode <= 0 {
		return
	}
	if !m.IsRequest() || !m.HasUsableVia() || m.Method() == ACK {
		t.Fatalf("server must answer %d, but IsRequest=%v HasUsableVia=%v", tc.serverCode, m.IsRequest(), m.HasUsableVia())
	}
	out := AppendResponse(nil, m, tc.serverCode, "", []byte("t1"), nil, "", nil)
	var res Message
	err := Parse(out, &res)
	if res.StatusCode() != tc.serverCode || !res.HasUsableVia() || res.Count(HdrVia) != m.Count(HdrVia) {
		t.Fatalf("response %d unusable (%v):\n%s", tc.serverCode, err, out)
	}
	if tc.stage != atParse && err != nil {
		t.Fatalf("response to a well-formed request does not parse: %v\n%s", err, out)
	}
}

// checkTortureCoverage checks that every corpus file has exactly one row.
func checkTortureCoverage(t *testing.T) {
	t.Helper()
	var files []string
	for _, g := range []string{"rfc4475/*.dat", "rfc4475/extras/*.dat", "rfc5118/*.dat"} {
		m, err := filepath.Glob(conformanceDir + g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			files = append(files, strings.TrimPrefix(f, conformanceDir))
		}
	}
	var rows []string
	for _, tc := range tortureCases {
		rows = append(rows, tc.file)
	}
	slices.Sort(files)
	slices.Sort(rows)
	if !slices.Equal(files, rows) {
		t.Fatalf("table and corpus differ:\nfiles %q\nrows  %q", files, rows)
	}
}

func wantCount(k HeaderKind, n int) func(*testing.T, *Message) {
	return func(t *testing.T, m *Message) {
		t.Helper()
		if got := m.Count(k); got != n {
			t.Errorf("%v values: got %d, want %d", k, got, n)
		}
	}
}

func wantScheme(s string) func(*testing.T, *Message) {
	return func(t *testing.T, m *Message) {
		t.Helper()
		u, err := ParseURI(m.RequestURI())
		if err != nil || string(u.Scheme) != s || u.IsSIP() {
			t.Errorf("Request-URI scheme: got %q (%v), want %q", u.Scheme, err, s)
		}
	}
}

func wantRURIHost(host string, port int) func(*testing.T, *Message) {
	return func(t *testing.T, m *Message) {
		t.Helper()
		u, err := ParseURI(m.RequestURI())
		if err != nil || string(u.Host) != host || u.Port != port {
			t.Errorf("Request-URI host: got %q port %d (%v), want %q port %d", u.Host, u.Port, err, host, port)
		}
	}
}

func wantReceived(r string) func(*testing.T, *Message) {
	return func(t *testing.T, m *Message) {
		t.Helper()
		if string(m.Via.Received) != r || string(m.Via.Host) != "[2001:db8::9:1]" {
			t.Errorf("Via: got host %q received %q, want received %q", m.Via.Host, m.Via.Received, r)
		}
	}
}

func wantEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func checkWsinv(t *testing.T, m *Message) {
	wantEq(t, "Via values", m.Count(HdrVia), 3)
	wantEq(t, "Max-Forwards", m.MaxForwards, 68)
	wantEq(t, "CSeq", m.CSeq, 9)
	wantEq(t, "CSeq method", m.CSeqMethod, INVITE)
	wantEq(t, "To tag", string(m.ToTag), "1918181833n")
	wantEq(t, "From tag", string(m.FromTag), "98asjd8")
	wantEq(t, "From display", string(m.From.Display), `"J Rosenberg \\\""`)
	wantEq(t, "Subject present and empty", m.Has(HdrSubject) && len(m.Get(HdrSubject)) == 0, true)
	wantEq(t, "unknown header", string(m.GetByName("UnknownHeaderWithUnusualValue")), ";;,,;;,;")
	c, err := ParseNameAddr(m.Get(HdrContact))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := c.Param("newparam")
	wantEq(t, "Contact newparam", string(v), "newvalue")
	_, ok := c.Param("secondparam")
	wantEq(t, "Contact secondparam", ok, true)
	wantEq(t, "Contact display", string(c.Display), `"Quoted string \"\""`)
	u, _ := ParseURI(m.RequestURI())
	_, ok = u.Param("unknownparam")
	wantEq(t, "Request-URI unknownparam", ok, true)
}

func checkIntmeth(t *testing.T, m *Message) {
	const meth = "!interesting-Method0123456789_*+`.%indeed'~"
	wantEq(t, "method", string(m.MethodName()), meth)
	wantEq(t, "Method", m.Method(), MethodUnknown)
	wantEq(t, "CSeq method", string(m.CSeqMethodName()), meth)
	u, err := ParseURI(m.RequestURI())
	wantEq(t, "Request-URI host", string(u.Host), "example.com")
	wantEq(t, "Request-URI error", err, nil)
}

func checkEsc01(t *testing.T, m *Message) {
	u, _ := ParseURI(m.RequestURI())
	wantEq(t, "user", string(u.User), "sips%3Auser%40example.com")
	wantEq(t, "host", string(u.Host), "example.net")
}

func checkEsc02(t *testing.T, m *Message) {
	wantEq(t, "Method", m.Method(), MethodUnknown)
	wantEq(t, "Contact values", m.Count(HdrContact), 2)
	wantEq(t, "To display", string(m.To.Display), `"%Z%45"`)
}

func checkLwsdisp(t *testing.T, m *Message) {
	wantEq(t, "From display", string(m.From.Display), "caller")
	wantEq(t, "From URI", string(m.From.URI), "sip:caller@example.com")
}

func checkDblreq(t *testing.T, m *Message) {
	wantEq(t, "Method", m.Method(), REGISTER)
	wantEq(t, "body length", len(m.Body()), 0)
	wantEq(t, "Bytes ends at the empty line", strings.HasSuffix(string(m.Bytes()), "Content-Length: 0\r\n\r\n"), true)
}

func checkSemiuri(t *testing.T, m *Message) {
	u, _ := ParseURI(m.RequestURI())
	wantEq(t, "user", string(u.User), "user;par=u%40example.net")
	wantEq(t, "host", string(u.Host), "example.com")
	wantEq(t, "Accept values", m.Count(HdrAccept), 6)
}

func checkTransports(t *testing.T, m *Message) {
	var got []string
	it := m.Values(HdrVia)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		via, err := ParseVia(v)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(via.Transport))
	}
	wantEq(t, "transports", strings.Join(got, " "), "UDP SCTP TLS UNKNOWN TCP")
}

func checkMpart01(t *testing.T, m *Message) {
	wantEq(t, "body length", len(m.Body()), 553)
	wantEq(t, "Content-Length", m.ContentLength, 553)
}

func checkUnreason(t *testing.T, m *Message) {
	wantEq(t, "status", m.StatusCode(), 200)
	wantEq(t, "reason prefix", strings.HasPrefix(string(m.Reason()), "= 2**3 * 5**2 "), true)
}

func checkNoreason(t *testing.T, m *Message) {
	wantEq(t, "status", m.StatusCode(), 100)
	wantEq(t, "reason", string(m.Reason()), "")
}

func checkBadbranch(t *testing.T, m *Message) {
	wantEq(t, "branch", string(m.Via.Branch), BranchMagic)
	wantEq(t, "RFC 3261 branch", m.Via.IsRFC3261Branch(), false)
}

func checkBext01(t *testing.T, m *Message) {
	wantEq(t, "Require values", m.Count(HdrRequire), 2)
	wantEq(t, "Proxy-Require values", m.Count(HdrProxyRequire), 2)
}

func checkBcast(t *testing.T, m *Message) {
	it := m.Values(HdrVia)
	it.Next()
	v, _ := it.Next()
	via, _ := ParseVia(v)
	wantEq(t, "second Via host", string(via.Host), "255.255.255.255")
}

func checkZeromf(t *testing.T, m *Message) { wantEq(t, "Max-Forwards", m.MaxForwards, 0) }

func checkCparam01(t *testing.T, m *Message) {
	c, err := ParseNameAddr(m.Get(HdrContact))
	wantEq(t, "error", err, nil)
	wantEq(t, "URI", string(c.URI), "sip:+19725552222@gw1.example.net")
	_, ok := c.Param("unknownparam")
	wantEq(t, "header parameter", ok, true)
}

func checkCparam02(t *testing.T, m *Message) {
	c, err := ParseNameAddr(m.Get(HdrContact))
	wantEq(t, "error", err, nil)
	wantEq(t, "URI", string(c.URI), "sip:+19725552222@gw1.example.net;unknownparam")
	wantEq(t, "header parameters", len(c.Params), 0)
}

func checkRegescrt(t *testing.T, m *Message) {
	c, _ := ParseNameAddr(m.Get(HdrContact))
	u, err := ParseURI(c.URI)
	wantEq(t, "error", err, nil)
	wantEq(t, "URI headers", string(u.Headers), "Route=%3Csip:sip.example.com%3E")
}

func checkInv2543(t *testing.T, m *Message) {
	wantEq(t, "Max-Forwards", m.MaxForwards, -1)
	wantEq(t, "branch", len(m.Via.Branch), 0)
	wantEq(t, "From tag", m.FromTag == nil, true)
}

func checkMultIPHeader(t *testing.T, m *Message) {
	wantEq(t, "Via values", m.Count(HdrVia), 3)
	wantEq(t, "top Via host", string(m.Via.Host), "[2001:db8::9:1]")
	wantEq(t, "top Via port", m.Via.Port, 6050)
}

func checkMapped(t *testing.T, m *Message) {
	wantEq(t, "top Via host", string(m.Via.Host), "[::ffff:192.0.2.10]")
	wantEq(t, "top Via port", m.Via.Port, 19823)
	c, err := ParseNameAddr(m.Get(HdrContact))
	wantEq(t, "error", err, nil)
	wantEq(t, "Contact URI", string(c.URI), "sip:ted@[::ffff:192.0.2.2]")
}
