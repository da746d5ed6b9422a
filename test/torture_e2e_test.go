package test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// conformanceDir holds the RFC 4475 and RFC 5118 messages, relative to test/.
const conformanceDir = "../../shared/conformance"

// What a torture message must get from the running server.
const (
	answer  = iota // the code in want (a regexp on the status line)
	valid          // the RFC calls it valid: any final answer but 400 (and no 500)
	lenient        // the RFC allows rejecting (400) or accepting: any final answer but 500
	drop           // a response not for us, or not SIP: no answer at all
	survive        // no expectation in the RFC; the server must only keep serving
)

// tortureRow is one corpus file and what the RFC says about it.
type tortureRow struct {
	file    string // under conformanceDir
	section string // RFC section that states the expectation
	kind    int
	want    string // for answer: regexp matched against the whole response
	notWant string // regexp the response must not match; "" for none
}

// tortureRows derive from the text of RFC 4475 (May 2006) and RFC 5118 (Feb 2008).
// Parley is an RFC 3261 proxy for example.com here (its domain is example.test),
// so a valid request for example.com gets a proxy's answer (today 404, "no
// proxy yet"), never 400.
var tortureRows = []tortureRow{
	// RFC 4475 §3.1.1 Valid Messages: "a parser must accept".
	{"rfc4475/wsinv.dat", "RFC 4475 §3.1.1.1 short tortuous INVITE", valid, "", ""},
	{"rfc4475/intmeth.dat", "RFC 4475 §3.1.1.2 wide range of valid characters", valid, "", ""},
	{"rfc4475/esc01.dat", "RFC 4475 §3.1.1.3 valid use of % escaping", valid, "", ""},
	{"rfc4475/escnull.dat", "RFC 4475 §3.1.1.4 escaped nulls in URIs", valid, "", ""},
	{"rfc4475/esc02.dat", "RFC 4475 §3.1.1.5 use of % when it is not an escape", valid, "", ""},
	{"rfc4475/lwsdisp.dat", "RFC 4475 §3.1.1.6 no LWS between display name and <", valid, "", ""},
	{"rfc4475/longreq.dat", "RFC 4475 §3.1.1.7 long values in header fields", valid, "", ""},
	{"rfc4475/dblreq.dat", "RFC 4475 §3.1.1.8 extra trailing octets in a UDP datagram: answer the REGISTER, ignore the rest", valid, `\r\nCSeq: 8 REGISTER\r\n`, ""},
	{"rfc4475/semiuri.dat", "RFC 4475 §3.1.1.9 semicolon-separated parameters in URI user part", valid, "", ""},
	{"rfc4475/transports.dat", "RFC 4475 §3.1.1.10 varied and unknown transport types", valid, "", ""},
	{"rfc4475/mpart01.dat", "RFC 4475 §3.1.1.11 multipart MIME message", valid, "", ""},
	{"rfc4475/unreason.dat", "RFC 4475 §3.1.1.12 unusual reason phrase (a response: not ours, dropped)", drop, "", ""},
	{"rfc4475/noreason.dat", "RFC 4475 §3.1.1.13 empty reason phrase (a response: not ours, dropped)", drop, "", ""},

	// RFC 4475 §3.1.2 Invalid Messages.
	{"rfc4475/badinv01.dat", "RFC 4475 §3.1.2.1 extraneous header field separators: \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/clerr.dat", "RFC 4475 §3.1.2.2 Content-Length larger than message: over UDP \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/ncl.dat", "RFC 4475 §3.1.2.3 negative Content-Length: \"should respond with an error\"", answer, `^SIP/2.0 4\d\d `, ""},
	{"rfc4475/scalar02.dat", "RFC 4475 §3.1.2.4 request scalar fields with overlarge values: \"400 Bad Request due to the CSeq error\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/scalarlg.dat", "RFC 4475 §3.1.2.5 response scalar fields with overlarge values: \"simply discard it\"", drop, "", ""},
	{"rfc4475/quotbal.dat", "RFC 4475 §3.1.2.6 unterminated quoted string in display name: \"should return a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/ltgtruri.dat", "RFC 4475 §3.1.2.7 <> enclosing Request-URI: \"reasonable always to reject ... 400\"", lenient, "", ""},
	{"rfc4475/lwsruri.dat", "RFC 4475 §3.1.2.8 embedded LWS in Request-URI: \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/lwsstart.dat", "RFC 4475 §3.1.2.9 multiple SP in Request-Line: \"acceptable to reject\", or be liberal", lenient, "", ""},
	{"rfc4475/trws.dat", "RFC 4475 §3.1.2.10 SP at end of Request-Line: \"acceptable to reject\", or be liberal", lenient, "", ""},
	{"rfc4475/escruri.dat", "RFC 4475 §3.1.2.11 escaped headers in Request-URI: \"acceptable ... to reject with a 400\", or ignore them", lenient, "", ""},
	{"rfc4475/baddate.dat", "RFC 4475 §3.1.2.12 non-GMT Date: an element \"shouldn't\" reject unless Date matters to it (it does not to a proxy)", valid, "", ""},
	{"rfc4475/regbadct.dat", "RFC 4475 §3.1.2.13 name-addr URI not in <>: \"reasonable ... to respond with a 400\", or infer the brackets", lenient, "", ""},
	{"rfc4475/badaspec.dat", "RFC 4475 §3.1.2.14 spaces within addr-spec: \"reasonable to reject ... 400\", or ignore the spaces", lenient, "", ""},
	{"rfc4475/baddn.dat", "RFC 4475 §3.1.2.15 non-token display name: \"reasonable to always reject ... 400\" (the archive's file also lacks the empty line)", lenient, "", ""},
	{"rfc4475/extras/baddn-with-blank-line.dat", "RFC 4475 §3.1.2.15 non-token display name, header section closed", lenient, "", ""},
	{"rfc4475/badvers.dat", "RFC 4475 §3.1.2.16 unknown protocol version: \"should respond with a 505\"", answer, `^SIP/2.0 505 `, ""},
	{"rfc4475/mismatch01.dat", "RFC 4475 §3.1.2.17 start line and CSeq method mismatch: \"will respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/mismatch02.dat", "RFC 4475 §3.1.2.18 unknown method with CSeq mismatch: \"should respond with a 501\" (400 acceptable)", answer, `^SIP/2.0 (501|400) `, ""},
	{"rfc4475/bigcode.dat", "RFC 4475 §3.1.2.19 overlarge response code: \"should simply drop it\"", drop, "", ""},

	// RFC 4475 §3.2 Transaction Layer Semantics.
	{"rfc4475/badbranch.dat", "RFC 4475 §3.2.1 branch of only z9hG4bK: reject with 400 or fall back to RFC 2543 matching", lenient, "", ""},

	// RFC 4475 §3.3 Application Layer Semantics.
	{"rfc4475/insuf.dat", "RFC 4475 §3.3.1 missing Call-ID, From, To: \"Ideally, it will respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/unkscm.dat", "RFC 4475 §3.3.2 unknown Request-URI scheme: \"will reject it with a 416\"", answer, `^SIP/2.0 416 `, ""},
	{"rfc4475/novelsc.dat", "RFC 4475 §3.3.3 known but atypical scheme (soap.beep) never accepted: \"416\"", answer, `^SIP/2.0 416 `, ""},
	{"rfc4475/unksm2.dat", "RFC 4475 §3.3.4 unknown schemes in To/From/Contact: syntactically valid; a proxy treats it as any other request (only a registrar for the domain answers 400)", valid, "", ""},
	{"rfc4475/bext01.dat", "RFC 4475 §3.3.5 Proxy-Require and Require: a proxy answers 420 listing the Proxy-Require tags", answer,
		`^SIP/2.0 420 [\s\S]*\r\nUnsupported: noProxiesSupportThis, ?norDoAnyProxiesSupportThis\r\n`, `nothingSupportsThis`},
	{"rfc4475/invut.dat", "RFC 4475 §3.3.6 unknown Content-Type: valid; a proxy processes it like any INVITE (415 is a UAS's answer)", valid, "", ""},
	{"rfc4475/regaut01.dat", "RFC 4475 §3.3.7 unknown Authorization scheme: well formed, a proxy treats it as any REGISTER", valid, "", ""},
	{"rfc4475/multi01.dat", "RFC 4475 §3.3.8 multiple values in single-value fields: \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/mcl01.dat", "RFC 4475 §3.3.9 multiple Content-Length values: \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc4475/bcast.dat", "RFC 4475 §3.3.10 200 OK with broadcast Via (a response: not ours, dropped)", drop, "", ""},
	{"rfc4475/zeromf.dat", "RFC 4475 §3.3.11 Max-Forwards of zero: \"a proxy should not forward ... and should respond 483\"", answer, `^SIP/2.0 483 `, ""},
	{"rfc4475/cparam01.dat", "RFC 4475 §3.3.12 REGISTER with a Contact header parameter: valid", valid, "", ""},
	{"rfc4475/cparam02.dat", "RFC 4475 §3.3.13 REGISTER with a url-parameter: valid", valid, "", ""},
	{"rfc4475/regescrt.dat", "RFC 4475 §3.3.14 REGISTER with a URL-escaped header in Contact: valid", valid, "", ""},
	{"rfc4475/sdp01.dat", "RFC 4475 §3.3.15 unacceptable Accept offering: valid (406 is a UAS's answer)", valid, "", ""},

	// RFC 4475 §3.4 Backward Compatibility.
	{"rfc4475/inv2543.dat", "RFC 4475 §3.4.1 INVITE with RFC 2543 syntax: \"should be accepted\"", valid, "", ""},

	// Not in the RFC's text: the archive's unreferenced test.dat.
	{"rfc4475/extras/test.dat", "not referenced by RFC 4475: the server must not break", survive, "", ""},

	// RFC 5118 §4 Parser Torture Tests.
	{"rfc5118/ipv6-good.dat", "RFC 5118 §4.1 valid SIP message with an IPv6 reference", valid, "", ""},
	{"rfc5118/ipv6-bad.dat", "RFC 5118 §4.2 IPv6 Request-URI without delimiters: \"should respond with a 400\"", answer, `^SIP/2.0 400 `, ""},
	{"rfc5118/port-ambiguous.dat", "RFC 5118 §4.3 port inside the IPv6 reference: syntactically valid (the port is part of the address)", valid, "", ""},
	{"rfc5118/port-unambiguous.dat", "RFC 5118 §4.4 port outside the IPv6 reference: valid", valid, "", ""},
	{"rfc5118/via-received-param-with-delim.dat", "RFC 5118 §4.5 received=[IPv6] with delimiters: to be accepted", valid, "", ""},
	{"rfc5118/via-received-param-no-delim.dat", "RFC 5118 §4.5 received=IPv6 without delimiters: to be accepted", valid, "", ""},
	{"rfc5118/ipv6-in-sdp.dat", "RFC 5118 §4.6 IPv6 addresses in SDP: valid", valid, "", ""},
	{"rfc5118/mult-ip-in-header.dat", "RFC 5118 §4.7 IPv4 and IPv6 addresses in Via: valid", valid, "", ""},
	{"rfc5118/mult-ip-in-sdp.dat", "RFC 5118 §4.8 IPv4 and IPv6 addresses in SDP: valid", valid, "", ""},
	{"rfc5118/ipv4-mapped-ipv6.dat", "RFC 5118 §4.9 IPv4-mapped IPv6 addresses: valid", valid, "", ""},
	{"rfc5118/ipv6-bug-abnf-3-colons.dat", "RFC 5118 §4.10 three colons from the RFC 3261 ABNF bug: be liberal, accept or reject", lenient, "", ""},
	{"rfc5118/ipv6-correct-abnf-2-colons.dat", "RFC 5118 §4.10 correct two-colon form: valid", valid, "", ""},
}

// TestTortureMessages sends each RFC 4475 and RFC 5118 message over UDP to the
// running server and checks the answer the RFC asks for.
//
// The one change made to a message: the sent-by port of its top Via is set to
// the port of the test's socket (sent-by hosts such as host1.example.com are
// kept). Without rport the server answers to the source IP and the Via port
// (RFC 3261 §18.2.2), so this makes the answer come back to the test. Every
// other byte, Content-Length included, is as published. Responses are sent
// unchanged.
func TestTortureMessages(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skipf("conformance corpus not found at %s: %v", conformanceDir, err)
	}
	checkCorpusCovered(t)
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	for _, r := range tortureRows {
		t.Run(strings.TrimSuffix(r.file, ".dat"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(conformanceDir, r.file))
			if err != nil {
				t.Skipf("missing: %v", err)
			}
			c := dial(t, s, "udp")
			runTorture(t, c, r, data)
		})
	}
	c := dial(t, s, "udp")
	c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
	c.expect(t, `^SIP/2.0 200 `)
	if p := s.stats().Panics; p != 0 {
		t.Errorf("%d handler panics", p)
	}
}

func runTorture(t *testing.T, c *client, r tortureRow, data []byte) {
	t.Helper()
	isResponse := bytes.HasPrefix(data, []byte("SIP/"))
	if !isResponse {
		var ok bool
		data, ok = rewriteTopViaPort(data, int(c.local.Port()))
		if !ok && r.kind != survive {
			t.Fatalf("%s: no top Via found to point at the test socket", r.file)
		}
	}
	c.sendRaw(data)
	if r.kind == drop || r.kind == survive {
		if m, err := c.recv(quietPeriod); err == nil && r.kind == drop {
			t.Errorf("%s: want no answer, got\n%s", r.section, m)
		}
		return
	}
	res := finalResponse(t, c, r)
	code := statusCode(res)
	t.Logf("%s -> %s", r.section, firstLine(res))
	switch r.kind {
	case answer:
		if !regexp.MustCompile(r.want).MatchString(res) {
			t.Errorf("%s: got\n%s\nwant a match for %q", r.section, res, r.want)
		}
	case valid:
		if code == 400 || code == 500 {
			t.Errorf("%s: a valid message got %s", r.section, firstLine(res))
		}
		if r.want != "" && !regexp.MustCompile(r.want).MatchString(res) {
			t.Errorf("%s: got\n%s\nwant a match for %q", r.section, res, r.want)
		}
	case lenient:
		if code == 500 {
			t.Errorf("%s: got %s", r.section, firstLine(res))
		}
	}
	if r.notWant != "" && regexp.MustCompile(r.notWant).MatchString(res) {
		t.Errorf("%s: got\n%s\nwhich must not match %q", r.section, res, r.notWant)
	}
}

// finalResponse waits for the first final response, skipping 1xx.
func finalResponse(t *testing.T, c *client, r tortureRow) string {
	t.Helper()
	for {
		m, err := c.recv(replyTimeout)
		if err != nil {
			t.Fatalf("%s: no answer within %v", r.section, replyTimeout)
		}
		if code := statusCode(m); code >= 200 {
			return m
		} else if code == 0 {
			t.Fatalf("%s: got a non-response\n%s", r.section, m)
		}
	}
}

func firstLine(m string) string {
	l, _, _ := strings.Cut(m, "\r\n")
	return l
}

// topVia matches the start of a Via header value up to its sent-by, across
// line folds: group 1 is the host, group 2 the optional ":port".
var topVia = regexp.MustCompile(`^(?i:via|v)[ \t]*:[ \t\r\n]*SIP[ \t\r\n]*/[ \t\r\n]*[^/ \t\r\n]+[ \t\r\n]*/[ \t\r\n]*[^ \t\r\n]+[ \t\r\n]+(\[[^\]]*\]|[^ \t\r\n;:,\[]+)(:[0-9]+)?`)

// rewriteTopViaPort sets the port of the top Via's sent-by to port, in the
// first message of data, and changes nothing else.
func rewriteTopViaPort(data []byte, port int) ([]byte, bool) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(data)
	}
	// Walk the header lines of the first message; a line starting with SP or
	// HTAB continues the previous one (RFC 3261 §7.3.1).
	pos := bytes.Index(data, []byte("\r\n"))
	for pos >= 0 && pos < end {
		start := pos + 2
		next := start
		for {
			i := bytes.Index(data[next:], []byte("\r\n"))
			if i < 0 {
				next = len(data)
				break
			}
			next += i
			if next+2 < len(data) && (data[next+2] == ' ' || data[next+2] == '\t') {
				next += 2
				continue
			}
			break
		}
		if m := topVia.FindSubmatchIndex(data[start:next]); m != nil {
			hostEnd := start + m[3]
			portEnd := hostEnd
			if m[4] >= 0 {
				portEnd = start + m[5]
			}
			out := append([]byte(nil), data[:hostEnd]...)
			out = append(out, ":"+strconv.Itoa(port)...)
			return append(out, data[portEnd:]...), true
		}
		pos = next
	}
	return data, false
}

// checkCorpusCovered fails when a corpus file has no row, so that a file added
// to the corpus is not silently skipped.
func checkCorpusCovered(t *testing.T) {
	t.Helper()
	have := map[string]bool{}
	for _, r := range tortureRows {
		have[r.file] = true
	}
	for _, dir := range []string{"rfc4475", "rfc4475/extras", "rfc5118"} {
		files, _ := filepath.Glob(filepath.Join(conformanceDir, dir, "*.dat"))
		for _, f := range files {
			rel, _ := filepath.Rel(conformanceDir, f)
			if !have[filepath.ToSlash(rel)] {
				t.Errorf("corpus file %s has no row in tortureRows", rel)
			}
		}
	}
}
