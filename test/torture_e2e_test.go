package test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/config"
)

// conformanceDir holds the RFC 4475 and RFC 5118 messages, relative to test/.
const conformanceDir = "../../shared/conformance"

// What the RFC says of a torture message.
const (
	valid   = iota // "a parser must accept": answered as any such request is, never 400 or 500
	invalid        // the RFC names the answer (400, 505, 416, 420, 483, ...)
	lenient        // the RFC allows rejecting (400) or accepting: never 500
	drop           // a response not for us: no answer at all
	survive        // no expectation in the RFC: the server must only keep serving
)

// Parley's answers. The server of this test serves example.com, the domain
// of the corpus, with digest authentication on, so each valid request gets
// the answer of a registrar and proxy for example.com and none is forwarded
// off the machine (RFC 3261 section named on each):
const (
	noAnswer     = -1  // nothing comes back
	notTCP       = -2  // the row is about a datagram: not sent over TCP
	challenged   = 407 // out of dialog from a user of example.com: challenged first (§22.3)
	regChallenge = 401 // a REGISTER for example.com: the registrar challenges it (§22.2, §10.3)
	unknownUser  = 404 // to a user of example.com who has no binding (§16.5: no target)
	noRelay      = 403 // forwarding it would make Parley an open relay (neither end ours, or a Route elsewhere)
	notOurDialog = 404 // in a dialog Parley did not record-route ("Not Here", §16.4, §16.12)
)

// tortureRow is one corpus file, what the RFC says about it and what Parley
// answers.
type tortureRow struct {
	file    string // under conformanceDir
	section string // RFC section that states the expectation, and whose request it is
	kind    int
	code    int    // Parley's final status over UDP, or noAnswer
	tcp     int    // over TCP when not code: another status, noAnswer or notTCP; 0 for the same
	want    string // regexp the response must match as well; "" for none
	notWant string // regexp the response must not match; "" for none
}

// tortureRows derive from the text of RFC 4475 (May 2006) and RFC 5118 (Feb 2008).
var tortureRows = []tortureRow{
	// RFC 4475 §3.1.1 Valid Messages: "a parser must accept".
	{"rfc4475/wsinv.dat", "RFC 4475 §3.1.1.1 short tortuous INVITE: in a dialog (To tag), Route to another host", valid, noRelay, 0, "", ""},
	{"rfc4475/intmeth.dat", "RFC 4475 §3.1.1.2 wide range of valid characters: unknown method from mundane@example.com", valid, challenged, 0, "", ""},
	{"rfc4475/esc01.dat", "RFC 4475 §3.1.1.3 valid use of % escaping: example.net to example.net", valid, noRelay, 0, "", ""},
	{"rfc4475/escnull.dat", "RFC 4475 §3.1.1.4 escaped nulls in URIs: REGISTER for example.com", valid, regChallenge, 0, "", ""},
	{"rfc4475/esc02.dat", "RFC 4475 §3.1.1.5 use of % when it is not an escape: method RE%47IST%45R (not REGISTER) from resource@example.com", valid, challenged, 0, "", ""},
	{"rfc4475/lwsdisp.dat", "RFC 4475 §3.1.1.6 no LWS between display name and <: OPTIONS from caller@example.com", valid, challenged, 0, "", ""},
	{"rfc4475/longreq.dat", "RFC 4475 §3.1.1.7 long values in header fields: INVITE from example.net to user@example.com", valid, unknownUser, 0, "", ""},
	{"rfc4475/dblreq.dat", "RFC 4475 §3.1.1.8 extra trailing octets in a UDP datagram: answer the REGISTER, ignore the rest", valid, regChallenge, notTCP, `\r\nCSeq: 8 REGISTER\r\n`, ""},
	{"rfc4475/semiuri.dat", "RFC 4475 §3.1.1.9 semicolon-separated parameters in URI user part: OPTIONS from example.org to a user of example.com", valid, unknownUser, 0, "", ""},
	{"rfc4475/transports.dat", "RFC 4475 §3.1.1.10 varied and unknown transport types: OPTIONS from caller@example.com", valid, challenged, 0, "", ""},
	{"rfc4475/mpart01.dat", "RFC 4475 §3.1.1.11 multipart MIME message: MESSAGE from fluffy@example.com", valid, challenged, 0, "", ""},
	{"rfc4475/unreason.dat", "RFC 4475 §3.1.1.12 unusual reason phrase (a response: not ours, dropped)", drop, noAnswer, 0, "", ""},
	{"rfc4475/noreason.dat", "RFC 4475 §3.1.1.13 empty reason phrase (a response: not ours, dropped)", drop, noAnswer, 0, "", ""},

	// RFC 4475 §3.1.2 Invalid Messages.
	{"rfc4475/badinv01.dat", "RFC 4475 §3.1.2.1 extraneous header field separators: \"should respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/clerr.dat", "RFC 4475 §3.1.2.2 Content-Length larger than message: over UDP \"should respond with a 400\"; over a stream the rest is awaited", invalid, 400, noAnswer, "", ""},
	{"rfc4475/ncl.dat", "RFC 4475 §3.1.2.3 negative Content-Length: \"should respond with an error\"; a stream cannot be framed and is closed (§18.3)", invalid, 400, noAnswer, "", ""},
	{"rfc4475/scalar02.dat", "RFC 4475 §3.1.2.4 request scalar fields with overlarge values: \"400 Bad Request due to the CSeq error\"", invalid, 400, 0, "", ""},
	{"rfc4475/scalarlg.dat", "RFC 4475 §3.1.2.5 response scalar fields with overlarge values: \"simply discard it\"", drop, noAnswer, 0, "", ""},
	{"rfc4475/quotbal.dat", "RFC 4475 §3.1.2.6 unterminated quoted string in display name: \"should return a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/ltgtruri.dat", "RFC 4475 §3.1.2.7 <> enclosing Request-URI: \"reasonable always to reject ... 400\"", lenient, 400, 0, "", ""},
	{"rfc4475/lwsruri.dat", "RFC 4475 §3.1.2.8 embedded LWS in Request-URI: \"should respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/lwsstart.dat", "RFC 4475 §3.1.2.9 multiple SP in Request-Line: \"acceptable to reject\", or be liberal", lenient, 400, 0, "", ""},
	{"rfc4475/trws.dat", "RFC 4475 §3.1.2.10 SP at end of Request-Line: \"acceptable to reject\", or be liberal", lenient, 400, 0, "", ""},
	{"rfc4475/escruri.dat", "RFC 4475 §3.1.2.11 escaped headers in Request-URI: \"acceptable ... to reject with a 400\", or ignore them", lenient, 400, 0, "", ""},
	{"rfc4475/baddate.dat", "RFC 4475 §3.1.2.12 non-GMT Date: an element \"shouldn't\" reject unless Date matters to it; INVITE from example.net to user@example.com", valid, unknownUser, 0, "", ""},
	{"rfc4475/regbadct.dat", "RFC 4475 §3.1.2.13 name-addr URI not in <>: \"reasonable ... to respond with a 400\", or infer the brackets", lenient, 400, 0, "", ""},
	{"rfc4475/badaspec.dat", "RFC 4475 §3.1.2.14 spaces within addr-spec: \"reasonable to reject ... 400\", or ignore the spaces", lenient, 400, 0, "", ""},
	{"rfc4475/baddn.dat", "RFC 4475 §3.1.2.15 non-token display name: \"reasonable to always reject ... 400\" (the archive's file also lacks the empty line, so on a stream the header never ends)", lenient, 400, noAnswer, "", ""},
	{"rfc4475/extras/baddn-with-blank-line.dat", "RFC 4475 §3.1.2.15 non-token display name, header section closed", lenient, 400, 0, "", ""},
	{"rfc4475/badvers.dat", "RFC 4475 §3.1.2.16 unknown protocol version: \"should respond with a 505\"", invalid, 505, 0, "", ""},
	{"rfc4475/mismatch01.dat", "RFC 4475 §3.1.2.17 start line and CSeq method mismatch: \"will respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/mismatch02.dat", "RFC 4475 §3.1.2.18 unknown method with CSeq mismatch: \"should respond with a 501\"", invalid, 501, 0, "", ""},
	{"rfc4475/bigcode.dat", "RFC 4475 §3.1.2.19 overlarge response code: \"should simply drop it\"", drop, noAnswer, 0, "", ""},

	// RFC 4475 §3.2 Transaction Layer Semantics.
	{"rfc4475/badbranch.dat", "RFC 4475 §3.2.1 branch of only z9hG4bK: reject with 400 or fall back to RFC 2543 matching; OPTIONS from example.org to user@example.com", lenient, unknownUser, 0, "", ""},

	// RFC 4475 §3.3 Application Layer Semantics.
	{"rfc4475/insuf.dat", "RFC 4475 §3.3.1 missing Call-ID, From, To: \"Ideally, it will respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/unkscm.dat", "RFC 4475 §3.3.2 unknown Request-URI scheme: \"will reject it with a 416\"", invalid, 416, 0, "", ""},
	{"rfc4475/novelsc.dat", "RFC 4475 §3.3.3 known but atypical scheme (soap.beep) never accepted: \"416\"", invalid, 416, 0, "", ""},
	{"rfc4475/unksm2.dat", "RFC 4475 §3.3.4 unknown schemes in To/From/Contact: syntactically valid; REGISTER for example.com, challenged before its To is looked at", valid, regChallenge, 0, "", ""},
	{"rfc4475/bext01.dat", "RFC 4475 §3.3.5 Proxy-Require and Require: a proxy answers 420 listing the Proxy-Require tags", invalid, 420, 0,
		`\r\nUnsupported: noProxiesSupportThis, ?norDoAnyProxiesSupportThis\r\n`, `nothingSupportsThis`},
	{"rfc4475/invut.dat", "RFC 4475 §3.3.6 unknown Content-Type: valid (415 is a UAS's answer); INVITE from example.net to a user of example.com", valid, unknownUser, 0, "", ""},
	{"rfc4475/regaut01.dat", "RFC 4475 §3.3.7 unknown Authorization scheme: well formed; no credentials Parley can use, so challenged", valid, regChallenge, 0, "", ""},
	{"rfc4475/multi01.dat", "RFC 4475 §3.3.8 multiple values in single-value fields: \"should respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc4475/mcl01.dat", "RFC 4475 §3.3.9 multiple Content-Length values: \"should respond with a 400\"; a stream cannot be framed and is closed (§18.3)", invalid, 400, noAnswer, "", ""},
	{"rfc4475/bcast.dat", "RFC 4475 §3.3.10 200 OK with broadcast Via (a response: not ours, dropped)", drop, noAnswer, 0, "", ""},
	{"rfc4475/zeromf.dat", "RFC 4475 §3.3.11 Max-Forwards of zero: \"a proxy should not forward ... and should respond 483\"", invalid, 483, 0, "", ""},
	{"rfc4475/cparam01.dat", "RFC 4475 §3.3.12 REGISTER with a Contact header parameter: valid", valid, regChallenge, 0, "", ""},
	{"rfc4475/cparam02.dat", "RFC 4475 §3.3.13 REGISTER with a url-parameter: valid", valid, regChallenge, 0, "", ""},
	{"rfc4475/regescrt.dat", "RFC 4475 §3.3.14 REGISTER with a URL-escaped header in Contact: valid", valid, regChallenge, 0, "", ""},
	{"rfc4475/sdp01.dat", "RFC 4475 §3.3.15 unacceptable Accept offering: valid (406 is a UAS's answer); INVITE from example.net to a user of example.com", valid, unknownUser, 0, "", ""},

	// RFC 4475 §3.4 Backward Compatibility.
	{"rfc4475/inv2543.dat", "RFC 4475 §3.4.1 INVITE with RFC 2543 syntax: \"should be accepted\"; to UserB@example.com. It has no Content-Length, which a stream needs (§18.3, §20.14): the connection is closed", valid, unknownUser, noAnswer, "", ""},

	// Not in the RFC's text: the archive's unreferenced test.dat.
	{"rfc4475/extras/test.dat", "not referenced by RFC 4475: the server must not break", survive, noAnswer, 0, "", ""},

	// RFC 5118 §4 Parser Torture Tests. The Request-URIs with IPv6 addresses
	// name hosts that are not Parley: from a user of example.com, challenged.
	{"rfc5118/ipv6-good.dat", "RFC 5118 §4.1 valid SIP message with an IPv6 reference", valid, challenged, 0, "", ""},
	{"rfc5118/ipv6-bad.dat", "RFC 5118 §4.2 IPv6 Request-URI without delimiters: \"should respond with a 400\"", invalid, 400, 0, "", ""},
	{"rfc5118/port-ambiguous.dat", "RFC 5118 §4.3 port inside the IPv6 reference: syntactically valid (the port is part of the address)", valid, challenged, 0, "", ""},
	{"rfc5118/port-unambiguous.dat", "RFC 5118 §4.4 port outside the IPv6 reference: valid", valid, challenged, 0, "", ""},
	{"rfc5118/via-received-param-with-delim.dat", "RFC 5118 §4.5 received=[IPv6] with delimiters: to be accepted; a BYE in a dialog that is not ours", valid, notOurDialog, 0, `^SIP/2.0 404 Not Here\r\n`, ""},
	{"rfc5118/via-received-param-no-delim.dat", "RFC 5118 §4.5 received=IPv6 without delimiters: to be accepted", valid, challenged, 0, "", ""},
	{"rfc5118/ipv6-in-sdp.dat", "RFC 5118 §4.6 IPv6 addresses in SDP: valid", valid, challenged, 0, "", ""},
	{"rfc5118/mult-ip-in-header.dat", "RFC 5118 §4.7 IPv4 and IPv6 addresses in Via: valid; a BYE in a dialog that is not ours", valid, notOurDialog, 0, `^SIP/2.0 404 Not Here\r\n`, ""},
	{"rfc5118/mult-ip-in-sdp.dat", "RFC 5118 §4.8 IPv4 and IPv6 addresses in SDP: valid", valid, challenged, 0, "", ""},
	{"rfc5118/ipv4-mapped-ipv6.dat", "RFC 5118 §4.9 IPv4-mapped IPv6 addresses: valid; INVITE from east.example.com to user@example.com", valid, unknownUser, 0, "", ""},
	{"rfc5118/ipv6-bug-abnf-3-colons.dat", "RFC 5118 §4.10 three colons from the RFC 3261 ABNF bug: be liberal, accept or reject", lenient, challenged, 0, "", ""},
	{"rfc5118/ipv6-correct-abnf-2-colons.dat", "RFC 5118 §4.10 correct two-colon form: valid", valid, challenged, 0, "", ""},
}

// TestTortureMessages sends each RFC 4475 and RFC 5118 message to the
// running server, over UDP and over TCP (each on a connection of its own),
// and checks Parley's exact answer, which must be one the RFC allows.
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
	checkRowsAllowed(t)
	s := startServer(t, serverOpts{auth: true, listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"},
		edit: func(c *config.Config) { c.Domain = []string{"example.com"} }})
	for _, key := range []string{"udp", "tcp"} {
		t.Run(key, func(t *testing.T) {
			for _, r := range tortureRows {
				t.Run(strings.TrimSuffix(r.file, ".dat"), func(t *testing.T) {
					code := r.code
					if key == "tcp" && r.tcp != 0 {
						code = r.tcp
					}
					if code == notTCP {
						t.Skipf("%s: about a datagram, not sent over TCP", r.section)
					}
					data, err := os.ReadFile(filepath.Join(conformanceDir, r.file))
					if err != nil {
						t.Skipf("missing: %v", err)
					}
					runTorture(t, dial(t, s, key), r, data, code)
				})
			}
			c := dial(t, s, key)
			c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
			c.expect(t, `^SIP/2.0 200 `) // still serving, and OPTIONS to Parley gets 200 (§11.2)
		})
	}
	if p := s.stats().Panics; p != 0 {
		t.Errorf("%d handler panics", p)
	}
}

// checkRowsAllowed fails when a row's expected answer is one its RFC kind
// forbids, so that the table cannot drift from the RFC.
func checkRowsAllowed(t *testing.T) {
	t.Helper()
	for _, r := range tortureRows {
		var bad bool
		switch {
		case r.kind == drop || r.kind == survive:
			bad = r.code != noAnswer || (r.tcp != 0 && r.tcp != noAnswer)
		case r.code == noAnswer, r.code == 500, r.tcp == 500:
			bad = true
		case r.kind == valid:
			bad = r.code == 400 || r.tcp == 400
		}
		if bad {
			t.Errorf("%s: answers %d (UDP) and %d (TCP) are not ones the RFC allows (%s)", r.file, r.code, r.tcp, r.section)
		}
	}
}

func runTorture(t *testing.T, c *client, r tortureRow, data []byte, code int) {
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
	if code == noAnswer {
		if m, err := c.recv(quietPeriod); err == nil && r.kind != survive {
			t.Errorf("%s: want no answer, got\n%s", r.section, m)
		}
		return
	}
	res := finalResponse(t, c, r)
	t.Logf("%s -> %s", r.section, firstLine(res))
	if got := statusCode(res); got != code {
		t.Errorf("%s: got %s, want %d", r.section, firstLine(res), code)
	}
	if r.want != "" && !regexp.MustCompile(r.want).MatchString(res) {
		t.Errorf("%s: got\n%s\nwant a match for %q", r.section, res, r.want)
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
