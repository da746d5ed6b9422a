package test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// apiUA is a minimal user agent over a raw UDP client, enough to register,
// make and answer a call through Parley and answer a BYE.
type apiUA struct {
	c    *client
	user string
	tag  string // our tag in the call
}

// newAPIUA opens a UDP client for user@example.test and registers its
// contact (the server must not challenge: authentication off).
func newAPIUA(t *testing.T, s *server, user string) *apiUA {
	t.Helper()
	u := &apiUA{c: dial(t, s, "udp"), user: user, tag: randHex(4)}
	newRegisterer(u.c, user).mustRegister(t, contact(u.contact(), ";expires=600"))
	return u
}

func (u *apiUA) contact() string { return "sip:" + u.user + "@" + u.c.local.String() }

func (u *apiUA) aor() string { return "sip:" + u.user + "@example.test" }

// respond builds a response to req: Via, Record-Route, From, To, Call-ID and
// CSeq copied (§8.2.6.2), our tag added to To when it has none, our Contact
// on a 1xx or 2xx to an INVITE (§12.1.1).
func (u *apiUA) respond(req string, code int, reason, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		n, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "via", "v", "record-route", "from", "f", "call-id", "i", "cseq":
			b.WriteString(l + "\r\n")
		case "to", "t":
			if !strings.Contains(v, ";tag=") {
				l += ";tag=" + u.tag
			}
			b.WriteString(l + "\r\n")
		}
	}
	if strings.HasPrefix(req, "INVITE ") && code < 300 {
		b.WriteString("Contact: <" + u.contact() + ">\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// sdpBody is a minimal audio offer or answer.
func sdpBody(host string) string {
	return "v=0\r\no=- 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
}

// apiCall is a call set up between two apiUAs.
type apiCall struct {
	callID         string
	caller, callee *apiUA
}

// startCall runs INVITE / 180 / 200 / ACK from caller to callee through
// Parley and returns the confirmed call.
func startCall(t *testing.T, caller, callee *apiUA) *apiCall {
	t.Helper()
	callID := randHex(8) + "@api.invalid"
	body := sdpBody("127.0.0.1")
	inv := caller.c.send(strings.ReplaceAll("INVITE "+callee.aor()+" SIP/2.0\n"+
		"Via: SIP/2.0/UDP $LOCAL;branch=$BRANCH;rport\nMax-Forwards: 70\n"+
		"From: <"+caller.aor()+">;tag="+caller.tag+"\nTo: <"+callee.aor()+">\n"+
		"Call-ID: "+callID+"\nCSeq: 1 INVITE\nContact: <"+caller.contact()+">\n"+
		"Content-Type: application/sdp\nContent-Length: "+fmt.Sprint(len(body))+"\n\n", "\n", "\r\n") + body)
	in := callee.c.expect(t, "^INVITE ")
	time.Sleep(10 * time.Millisecond) // see settle in proxy_ua_test.go: Parley's client transaction must be set up
	callee.c.sendRaw(callee.respond(in, 180, "Ringing", ""))
	caller.c.expect(t, "^SIP/2.0 180 ")
	callee.c.sendRaw(callee.respond(in, 200, "OK", body))
	ok := caller.c.expect(t, "^SIP/2.0 200 ")
	caller.c.sendRaw([]byte(ack2xx(inv, ok)))
	callee.c.expect(t, "^ACK ")
	return &apiCall{callID: callID, caller: caller, callee: callee}
}

// ack2xx builds the ACK for a 2xx to invite (§13.2.2.4): to the Contact of
// the 2xx, along its Record-Route reversed, with a new branch.
func ack2xx(invite, ok string) string {
	target, _ := header(ok, "Contact", "m")
	if i, j := strings.IndexByte(target, '<'), strings.IndexByte(target, '>'); i >= 0 && j > i {
		target = target[i+1 : j]
	}
	var routes []string
	head, _, _ := strings.Cut(ok, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		if n, v, _ := strings.Cut(l, ":"); strings.EqualFold(strings.TrimSpace(n), "Record-Route") {
			for _, r := range strings.Split(v, ",") {
				routes = append([]string{strings.TrimSpace(r)}, routes...)
			}
		}
	}
	via, _ := header(invite, "Via", "v")
	via = via[:strings.Index(via, ";branch=")] + ";branch=z9hG4bK" + randHex(8) + ";rport"
	from, _ := header(invite, "From", "f")
	to, _ := header(ok, "To", "t")
	callID, _ := header(invite, "Call-ID", "i")
	var b strings.Builder
	b.WriteString("ACK " + target + " SIP/2.0\r\nVia: " + via + "\r\nMax-Forwards: 70\r\n")
	for _, r := range routes {
		b.WriteString("Route: " + r + "\r\n")
	}
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nCall-ID: " + callID + "\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// expectBye waits for Parley's BYE at u, answers 200 and returns it.
func (u *apiUA) expectBye(t *testing.T) string {
	t.Helper()
	bye := u.c.expect(t, "^BYE ")
	u.c.sendRaw(u.respond(bye, 200, "OK", ""))
	return bye
}
