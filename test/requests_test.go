package test

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// reqRow is one request and the answer the RFC requires for it.
type reqRow struct {
	name    string
	rfc     string // where the answer is required
	msg     string // template, see client.fill
	want    string // regexp the response must match (status line and headers)
	notWant string // regexp the response must not match; "" for none
	ack     bool   // an INVITE: acknowledge the final response (§17.1.1.3)
}

// base builds a request template with a fresh Via, tags and Call-ID.
// ruri is the Request-URI, extra holds more header lines ending in "\n".
func base(method, ruri, cseqMethod, extra string) string {
	return method + " " + ruri + " SIP/2.0\n" +
		"Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport\n" +
		"Max-Forwards: 70\n" +
		"From: <sip:alice@example.test>;tag=$TAG\n" +
		"To: <sip:bob@example.test>\n" +
		"Call-ID: $CALLID\n" +
		"CSeq: 1 " + cseqMethod + "\n" +
		extra +
		"Content-Length: 0\n\n"
}

// replace returns tmpl with the first line that starts with prefix replaced by
// line ("" removes it).
func replace(tmpl, prefix, line string) string {
	lines := strings.SplitAfter(tmpl, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			if line == "" {
				lines[i] = ""
			} else {
				lines[i] = line + "\n"
			}
			break
		}
	}
	return strings.Join(lines, "")
}

var badAndSpecial = []reqRow{
	{
		name: "bad CSeq", rfc: "RFC 3261 §20.16, §8.2 (stateless 400); RFC 4475 §3.1.2",
		msg:  replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "CSeq:", "CSeq: abc OPTIONS"),
		want: `^SIP/2.0 400 [^\r]*CSeq[^\r]*\r\n`,
	},
	{
		name: "bad From", rfc: "RFC 3261 §20.20, §25.1 name-addr; RFC 4475 §3.1.2.6",
		msg:  replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "From:", `From: "Alice <sip:alice@example.test;tag=$TAG`),
		want: `^SIP/2.0 400 [^\r]*From[^\r]*\r\n`,
	},
	{
		name: "no Call-ID", rfc: "RFC 3261 §8.1.1 (mandatory headers); RFC 4475 §3.3.1",
		msg:  replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "Call-ID:", ""),
		want: `^SIP/2.0 400 [^\r]*Call-ID[^\r]*\r\n`,
	},
	{
		name: "CSeq method mismatch", rfc: "RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.17",
		msg:  base("OPTIONS", "sip:$TARGET", "INVITE", ""),
		want: `^SIP/2.0 400 [^\r]*CSeq[^\r]*\r\n`,
	},
	{
		name: "SIP/3.0", rfc: "RFC 3261 §21.5.6, §8.2 (505); RFC 4475 §3.1.2.16",
		msg:  strings.Replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "SIP/2.0\n", "SIP/3.0\n", 1),
		want: `^SIP/2.0 505 `,
	},
	{
		name: "Proxy-Require to a user", rfc: "RFC 3261 §16.3 step 5, §20.29 (420 with Unsupported)",
		msg:  base("OPTIONS", "sip:bob@example.test", "OPTIONS", "Proxy-Require: foo\n"),
		want: `^SIP/2.0 420 [\s\S]*\r\nUnsupported: foo\r\n`,
	},
	{
		name: "Require to Parley", rfc: "RFC 3261 §8.2.2.3 (420 with Unsupported)",
		msg:  base("OPTIONS", "sip:$TARGET", "OPTIONS", "Require: foo\n"),
		want: `^SIP/2.0 420 [\s\S]*\r\nUnsupported: foo\r\n`,
	},
	{
		name: "Require to a user is not checked by a proxy", rfc: "RFC 3261 §16.3 (only Proxy-Require), RFC 4475 §3.3.5",
		msg:     base("OPTIONS", "sip:bob@example.test", "OPTIONS", "Require: foo\n"),
		want:    `^SIP/2.0 [3-6]\d\d `,
		notWant: `^SIP/2.0 420 `,
	},
	{
		name: "Max-Forwards 0 INVITE to a user", rfc: "RFC 3261 §16.3 step 3 (483); RFC 4475 §3.3.11",
		msg:  replace(base("INVITE", "sip:bob@example.test", "INVITE", "Contact: <sip:alice@$LOCAL>\n"), "Max-Forwards:", "Max-Forwards: 0"),
		want: `^SIP/2.0 483 `,
		ack:  true,
	},
	{
		name: "Max-Forwards 0 OPTIONS to Parley", rfc: "RFC 3261 §16.3 step 3 (a proxy may answer OPTIONS itself), §11",
		msg:  replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "Max-Forwards:", "Max-Forwards: 0"),
		want: `^SIP/2.0 200 `,
	},
	{
		name: "unknown method to Parley", rfc: "RFC 3261 §8.2.1 (501)",
		msg:  base("FOO", "sip:$TARGET", "FOO", ""),
		want: `^SIP/2.0 501 `,
	},
	{
		name: "SUBSCRIBE to Parley", rfc: "RFC 3261 §8.2.1 (405 with Allow)",
		msg:  base("SUBSCRIBE", "sip:$TARGET", "SUBSCRIBE", "Event: presence\n"),
		want: `^SIP/2.0 405 [\s\S]*\r\nAllow: [^\r]*OPTIONS`,
	},
	{
		name: "INVITE to Parley", rfc: "RFC 3261 §8.2.1 (405 with Allow)",
		msg:  base("INVITE", "sip:$TARGET", "INVITE", "Contact: <sip:alice@$LOCAL>\n"),
		want: `^SIP/2.0 405 [\s\S]*\r\nAllow: `,
		ack:  true,
	},
	{
		name: "unknown URI scheme", rfc: "RFC 3261 §8.2.2.1, §16.3 step 2 (416); RFC 4475 §3.3.2 unkscm",
		msg:  base("OPTIONS", "nobody:known", "OPTIONS", ""),
		want: `^SIP/2.0 416 `,
	},
	{
		name: "CANCEL matching nothing", rfc: "RFC 3261 §9.2 (481)",
		msg:  base("CANCEL", "sip:bob@example.test", "CANCEL", ""),
		want: `^SIP/2.0 481 `,
	},
}

// TestBadAndSpecialRequests sends each row over UDP and TCP and checks the
// answer against the RFC.
func TestBadAndSpecialRequests(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
	for _, key := range []string{"udp", "tcp"} {
		c := dial(t, s, key)
		for _, r := range badAndSpecial {
			t.Run(key+"/"+r.name, func(t *testing.T) {
				req := c.send(r.msg)
				res := c.expect(t, r.want)
				t.Logf("%s: %s", r.rfc, res)
				if r.notWant != "" && regexpMatch(r.notWant, res) {
					t.Errorf("%s: got\n%s\nwhich must not match %q", r.rfc, res, r.notWant)
				}
				if r.ack {
					c.sendRaw([]byte(ackFor(req, res)))
				}
			})
		}
	}
}

// TestRetransmission: RFC 3261 §8.2.6.2 — a retransmitted request
// answered statelessly gets the same To tag, and a retransmitted request
// with a transaction gets the same response again (§17.2.2).
func TestRetransmission(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	cases := []struct{ name, msg, want string }{
		{"transaction 200", base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), `^SIP/2.0 200 `},
		{"stateless 400", replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "CSeq:", "CSeq: abc OPTIONS"), `^SIP/2.0 400 `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.stats().Transactions
			m := []byte(c.fill(tc.msg))
			c.sendRaw(m)
			first := c.expect(t, tc.want)
			c.sendRaw(m)
			second := c.expect(t, tc.want)
			if toTag(first) == "" || toTag(first) != toTag(second) {
				t.Errorf("To tags %q and %q, want the same non-empty tag", toTag(first), toTag(second))
			}
			if tc.name != "transaction 200" {
				return
			}
			if first != second {
				t.Errorf("retransmitted response differs:\n%s\n---\n%s", first, second)
			}
			after := s.stats().Transactions
			if n := after.ServerTransactions - before.ServerTransactions; n != 1 {
				t.Errorf("%d server transactions created, want 1", n)
			}
			if after.Retransmissions <= before.Retransmissions {
				t.Errorf("Retransmissions counter did not increase (%d)", after.Retransmissions)
			}
		})
	}
}

// TestGarbageIsDropped: RFC 3261 §18.3 / RFC 4475 §3.1.2 — bytes that are not
// SIP get no answer and are counted; the server keeps serving.
func TestGarbageIsDropped(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	dropped := func() int64 {
		st := s.stats()
		return st.Transactions.Dropped + int64(st.Transport.UDP.DroppedGarbage)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"binary", append([]byte{0x00, 0xff, 0x13, 0x37}, []byte(randHex(64))...)},
		{"STUN-like", []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"hello", []byte("hello")},
		{"hello CRLF", []byte("hello\r\n\r\n")},
		{"request without Via", []byte("OPTIONS sip:x SIP/2.0\r\nCSeq: abc\r\n\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, malformed := dropped(), s.stats().Transactions.Malformed
			c.sendRaw(tc.data)
			c.expectNone(t, quietPeriod)
			if !waitFor(time.Second, func() bool { return dropped() > before }) {
				t.Errorf("dropped counters did not increase: %+v", s.stats())
			}
			if tc.name == "hello" && s.stats().Transactions.Malformed <= malformed {
				t.Errorf("Malformed counter did not increase: %+v", s.stats().Transactions)
			}
		})
	}
	c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
	c.expect(t, `^SIP/2.0 200 `)
}

// TestStrayResponseDropped: RFC 3261 §18.1.2 — a response whose top Via is
// not this server's is discarded silently, and counted.
func TestStrayResponseDropped(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
	for _, key := range []string{"udp", "tcp"} {
		t.Run(key, func(t *testing.T) {
			c := dial(t, s, key)
			before := s.stats().StrayDropped
			c.send(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=$BRANCH
Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKother
From: <sip:alice@example.test>;tag=$TAG
To: <sip:bob@example.test>;tag=b0b
Call-ID: $CALLID
CSeq: 1 OPTIONS
Content-Length: 0

`)
			c.expectNone(t, quietPeriod)
			if !waitFor(time.Second, func() bool { return s.stats().StrayDropped > before }) {
				t.Errorf("StrayDropped did not increase (%d)", s.stats().StrayDropped)
			}
			c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
			c.expect(t, `^SIP/2.0 200 `)
		})
	}
}

// TestStatelessResponseVia: RFC 3581 §4 — a server that receives a request
// whose top Via has a bare rport MUST fill it with the source port and MUST
// add received, "even if it is identical to the sent-by"; §8.2.6.2 — the
// response's Via equals the request's as received. This holds for responses
// the transaction layer sends statelessly (400 for a malformed request, 505).
func TestStatelessResponseVia(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	for _, tc := range []struct{ name, msg, want string }{
		{"400", replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "CSeq:", "CSeq: abc OPTIONS"), `^SIP/2.0 400 `},
		{"505", strings.Replace(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""), "SIP/2.0\n", "SIP/3.0\n", 1), `^SIP/2.0 505 `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.msg)
			res := c.expect(t, tc.want)
			via, _ := header(res, "Via", "v")
			want := ";rport=" + strconv.Itoa(int(c.local.Port()))
			if !strings.Contains(via, want) || !strings.Contains(via, ";received=127.0.0.1") {
				t.Errorf("Via %q: want %s and received=127.0.0.1 (RFC 3581 §4)", via, want)
			}
		})
	}
}

// TestACKNeverAnswered: RFC 3261 §17.1.1.3, §17.2.1 — an ACK is never
// answered, not even a malformed one (§8.2: "a 400 ... except for ACK").
func TestACKNeverAnswered(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	for _, tc := range []struct{ name, msg string }{
		{"stray ACK", base("ACK", "sip:bob@example.test", "ACK", "")},
		{"ACK to Parley", base("ACK", "sip:$TARGET", "ACK", "")},
		{"malformed ACK", replace(base("ACK", "sip:$TARGET", "ACK", ""), "CSeq:", "CSeq: abc ACK")},
		{"ACK with Max-Forwards 0", replace(base("ACK", "sip:bob@example.test", "ACK", ""), "Max-Forwards:", "Max-Forwards: 0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.msg)
			c.expectNone(t, quietPeriod)
		})
	}
}

// TestInviteNon2xxAndCancel: RFC 3261 §17.2.1 — an INVITE answered with a
// final non-2xx is retransmitted to over UDP until the ACK, a retransmitted
// INVITE gets the same final response, and the ACK is absorbed; §9.2 — a
// CANCEL that matches the INVITE transaction gets 200 even after the final
// response (it "has no effect" on it).
func TestInviteNon2xxAndCancel(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	inv := c.fill(base("INVITE", "sip:$TARGET", "INVITE", "Contact: <sip:alice@$LOCAL>\n"))
	c.sendRaw([]byte(inv))
	// §17.2.1, §16.2: the INVITE server transaction answers 100 Trying (no To
	// tag is needed on a 100, §8.2.6.1) unless the final answer is immediate.
	first, err := c.recv(replyTimeout)
	if err != nil {
		t.Fatal("no answer to INVITE")
	}
	res := first
	if statusCode(first) == 100 {
		res = c.expect(t, `^SIP/2.0 405 `)
	} else if statusCode(first) != 405 {
		t.Fatalf("got\n%s\nwant 100 or 405", first)
	}
	c.sendRaw([]byte(inv))
	again := c.expect(t, `^SIP/2.0 405 `)
	if toTag(again) != toTag(res) {
		t.Errorf("retransmitted INVITE: To tag %q, first %q", toTag(again), toTag(res))
	}
	cancel := strings.Replace(strings.Replace(inv, "INVITE sip:", "CANCEL sip:", 1), " INVITE\r\n", " CANCEL\r\n", 1)
	cancel = regexp.MustCompile(`(?m)^Contact: .*\r\n`).ReplaceAllString(cancel, "")
	c.sendRaw([]byte(cancel))
	c.expect(t, `^SIP/2.0 200 [\s\S]*\r\nCSeq: 1 CANCEL\r\n`)
	c.sendRaw([]byte(ackFor(inv, res)))
	// After the ACK (Confirmed state) only stray Timer G retransmissions
	// already in flight may come; none must follow within T1-scale time.
	deadline := time.Now().Add(2 * quietPeriod)
	for time.Now().Before(deadline) {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			break
		}
		if statusCode(m) != 405 {
			t.Errorf("after ACK: got\n%s", m)
		}
	}
}

// TestOptionsSupported: RFC 3261 §11.2 — the answer to OPTIONS SHOULD list
// Supported; it is sent with the configured option tags ("path" by default,
// RFC 3327), and with an empty value (§20.37) when none is configured.
func TestOptionsSupported(t *testing.T) {
	for _, tt := range []struct {
		name      string
		supported []string
		want      string
	}{
		{"default", nil, `\r\nSupported: path\r\n`},
		{"none", []string{}, `\r\nSupported:\r\n`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := serverOpts{listen: []string{"udp:127.0.0.1:0"}}
			if tt.supported != nil {
				o.edit = func(c *config.Config) { c.SIP.Supported = tt.supported }
			}
			s := startServer(t, o)
			c := dial(t, s, "udp")
			c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
			c.expect(t, `^SIP/2.0 200 [\s\S]*`+tt.want)
		})
	}
}

// TestSlowTCPCallerDoesNotStallUDP: a caller on TCP sends an INVITE and
// never reads. The callee, on UDP, answers with a stream of large 180s,
// which Parley relays to the caller from the goroutine that reads its UDP
// socket (client transaction → proxy → server transaction). Once the
// caller's connection is full those relays cannot be written, yet a third
// client's OPTIONS over UDP is still answered within 200 ms.
func TestSlowTCPCallerDoesNotStallUDP(t *testing.T) {
	s := proxyServer(t, nil)
	bob := newPhone(t, s, "udp", uniq("bob"))
	bob.fast = true
	bob.register(t, "")
	nc, err := net.DialTimeout("tcp", s.addr(t, "tcp").String(), replyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096) // and never read
	local := nc.LocalAddr().String()
	nc.Write([]byte(buildMsg("INVITE "+bob.aor()+" SIP/2.0", []string{
		"Via: SIP/2.0/TCP " + local + ";branch=z9hG4bK" + randHex(8) + ";rport", "Max-Forwards: 70",
		"From: <sip:alice@example.test>;tag=" + randHex(4), "To: <" + bob.aor() + ">",
		"Call-ID: " + randHex(10) + "@e2e.invalid", "CSeq: 1 INVITE",
		"Contact: <sip:alice@" + local + ";transport=tcp>",
	}, "", "")))
	in := bob.request(t, "INVITE")

	before := s.stats().Transport
	body := strings.Repeat("a=x-pad:"+strings.Repeat("x", 90)+"\r\n", 600) // 60 KB
	// 150 of them, 9 MB: more than the socket buffers of both ends hold.
	for i := range 150 {
		bob.reply(t, in, 180, "Ringing", msgOpts{hdrs: []string{"X-Seq: " + strconv.Itoa(i)}, ctype: "application/sdp", body: body})
		time.Sleep(time.Millisecond)
	}
	c := dial(t, s, "udp")
	start := time.Now()
	c.send(base("OPTIONS", "sip:$TARGET", "OPTIONS", ""))
	c.expect(t, `^SIP/2.0 200 `)
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("OPTIONS over UDP answered after %v while relays to a stuck TCP caller were pending, want < 200ms", d)
	}
	after := s.stats().Transport
	relayed, written := after.UDP.MessagesIn-before.UDP.MessagesIn, after.TCP.MessagesOut-before.TCP.MessagesOut
	t.Logf("180s received over UDP %d, messages written to the caller %d", relayed, written)
	if relayed < 100 || written >= relayed-1 {
		t.Errorf("the caller's connection never filled (%d 180s in, %d written): the test did not stall it", relayed, written)
	}
	bob.reply(t, in, 486, "Busy Here", msgOpts{}) // ends the INVITE, so that the server can drain
	bob.request(t, "ACK")
}
