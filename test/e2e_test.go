package test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// optionsSelf is an OPTIONS to Parley itself: no user part, host and port of
// the listener (RFC 3261 §11). The Via asks for rport (RFC 3581 §3).
const optionsSelf = `OPTIONS sip:$TARGET SIP/2.0
Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport
Max-Forwards: 70
From: <sip:alice@example.test>;tag=$TAG
To: <sip:$TARGET>
Call-ID: $CALLID
CSeq: 1 OPTIONS
Accept: application/sdp
Content-Length: 0

`

// optionsDomain is an OPTIONS to the served domain sip:example.test.
const optionsDomain = `OPTIONS sip:example.test SIP/2.0
Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport
Max-Forwards: 70
From: <sip:alice@example.test>;tag=$TAG
To: <sip:example.test>
Call-ID: $CALLID
CSeq: 7 OPTIONS
Content-Length: 0

`

// TestOptionsEveryTransport: RFC 3261 §11.2 — an OPTIONS addressed to the
// server is answered 200 with Allow, Accept and Supported, on every transport.
// §8.2.6.2: the To tag is added. §18.2.1 and RFC 3581 §4: the Via is copied,
// with received and rport filled in for a request that carried a bare rport.
func TestOptionsEveryTransport(t *testing.T) {
	s := startServer(t, serverOpts{})
	for _, key := range []string{"udp", "tcp", "tls", "ws", "wss", "udp6"} {
		t.Run(key, func(t *testing.T) {
			if _, ok := s.addrs[key]; !ok {
				t.Skipf("no %s listener (IPv6 loopback unavailable?)", key)
			}
			c := dial(t, s, key)
			for _, tmpl := range []string{optionsSelf, optionsDomain} {
				req := c.send(tmpl)
				res := c.expect(t, `^SIP/2.0 200 OK\r\n`)
				checkOptions200(t, c, req, res)
			}
		})
	}
}

func checkOptions200(t *testing.T, c *client, req, res string) {
	t.Helper()
	for _, h := range []string{"Allow", "Accept", "Supported"} {
		if v, ok := header(res, h); !ok || v == "" {
			t.Errorf("no %s header in\n%s", h, res)
		}
	}
	if allow, _ := header(res, "Allow"); !strings.Contains(allow, "OPTIONS") {
		t.Errorf("Allow %q lacks OPTIONS", allow)
	}
	if toTag(res) == "" {
		t.Errorf("no To tag in\n%s", res)
	}
	for _, h := range []string{"From", "Call-ID", "CSeq"} {
		want, _ := header(req, h)
		if got, _ := header(res, h); got != want {
			t.Errorf("%s = %q, want %q copied from the request", h, got, want)
		}
	}
	via, _ := header(res, "Via", "v")
	reqVia, _ := header(req, "Via", "v")
	branch := regexp.MustCompile(`branch=[^;]+`).FindString(reqVia)
	if !strings.Contains(via, branch) || !strings.HasPrefix(via, "SIP/2.0/"+c.proto+" "+c.local.String()) {
		t.Errorf("Via %q is not the request's %q", via, reqVia)
	}
	wantRport := ";rport=" + strconv.Itoa(int(c.local.Port()))
	if !strings.Contains(via, wantRport) {
		t.Errorf("Via %q lacks %s (RFC 3581 §4)", via, wantRport)
	}
	if !strings.Contains(via, ";received="+c.local.Addr().String()) {
		t.Errorf("Via %q lacks received=%s (RFC 3581 §4: even when equal to sent-by)", via, c.local.Addr())
	}
}

// TestReceivedWithoutRport: RFC 3261 §18.2.1 — received is added when the
// sent-by host is not the source address; without rport no rport is added,
// and the UDP response goes to the source IP and the Via port (§18.2.2).
func TestReceivedWithoutRport(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	port := strconv.Itoa(int(c.local.Port()))
	c.send(`OPTIONS sip:$TARGET SIP/2.0
Via: SIP/2.0/UDP client.invalid:` + port + `;branch=$BRANCH
Max-Forwards: 70
From: <sip:alice@example.test>;tag=$TAG
To: <sip:$TARGET>
Call-ID: $CALLID
CSeq: 1 OPTIONS
Content-Length: 0

`)
	res := c.expect(t, `^SIP/2.0 200 `)
	via, _ := header(res, "Via", "v")
	if want := "SIP/2.0/UDP client.invalid:" + port + ";branch="; !strings.HasPrefix(via, want) {
		t.Errorf("Via %q, want prefix %q", via, want)
	}
	if !strings.Contains(via, ";received=127.0.0.1") {
		t.Errorf("Via %q lacks received=127.0.0.1", via)
	}
	if strings.Contains(via, "rport") {
		t.Errorf("Via %q has rport though the request had none", via)
	}
}

// TestManyRequests: a burst of OPTIONS on one UDP socket and one TCP
// connection is answered in full, each with its own To tag.
func TestManyRequests(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
	const n = 100
	for _, key := range []string{"udp", "tcp"} {
		t.Run(key, func(t *testing.T) {
			c := dial(t, s, key)
			sent := map[string]bool{}
			for range n {
				req := c.send(optionsSelf)
				id, _ := header(req, "Call-ID")
				sent[id] = true
			}
			tags := map[string]bool{}
			for range n {
				res := c.expect(t, `^SIP/2.0 200 `)
				id, _ := header(res, "Call-ID")
				if !sent[id] {
					t.Fatalf("unexpected or duplicate answer for Call-ID %q", id)
				}
				delete(sent, id)
				tags[toTag(res)] = true
			}
			if len(tags) != n {
				t.Errorf("%d distinct To tags for %d transactions", len(tags), n)
			}
		})
	}
}
