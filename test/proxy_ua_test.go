package test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// phone is a scripted SIP user agent for the proxy tests: a UDP socket or a
// TCP connection on 127.0.0.1 that talks to Parley only. It registers a
// contact, waits for messages matching a predicate (keeping the others for
// later waits), answers requests as a UAS (§8.2.6, §12.1.1) and sends
// requests inside dialogs by their route set (§12.2.1.1).
//
// Retransmissions (byte-identical datagrams) are absorbed by the reader, so a
// test sees each message once.
type phone struct {
	user   string
	proto  string         // "UDP" or "TCP"
	server netip.AddrPort // Parley's listener for proto
	local  netip.AddrPort
	write  func([]byte) error
	in     chan *sipMsg
	done   chan struct{}
	once   sync.Once
	closer func()
	wg     sync.WaitGroup

	mu       sync.Mutex
	backlog  []*sipMsg         // received, not yet taken by a wait
	tags     map[string]string // our To tag per Call-ID
	regCSeq  int               // CSeq of the next REGISTER
	regCall  string            // Call-ID of our REGISTERs
	dups     map[string]int    // retransmissions absorbed, by start line
	answered map[string]bool   // transactions (top Via) we have responded to
	fast     bool              // answer at once, without settle
}

// settle is how long a phone waits before its first response to a
// transaction, as a real phone takes a moment to answer. It works around no
// race: transaction.Layer.Request arms the client transaction before it
// sends, so a response that arrives at once is matched, and phones with
// fast set answer without it (TestProxyRFC3261s17_1_1_2_ImmediateProvisional
// checks that).
const settle = 10 * time.Millisecond

// newPhone opens a phone for user on Parley's "udp" or "tcp" listener; it is
// closed when the test ends.
func newPhone(t *testing.T, s *server, key, user string) *phone {
	t.Helper()
	p := &phone{user: user, server: s.addr(t, key), in: make(chan *sipMsg, 256),
		done: make(chan struct{}), tags: map[string]string{}, regCSeq: 1,
		regCall: randHex(8) + "@reg.invalid", dups: map[string]int{},
		answered: map[string]bool{}}
	var err error
	switch key {
	case "udp":
		err = p.openUDP()
	case "tcp":
		err = p.openTCP()
	default:
		t.Fatalf("phone: unknown transport %q", key)
	}
	if err != nil {
		t.Fatalf("phone %s over %s: %v", user, key, err)
	}
	t.Cleanup(p.close)
	return p
}

func (p *phone) close() {
	p.once.Do(func() {
		close(p.done)
		p.closer()
	})
	p.wg.Wait()
}

func (p *phone) openUDP() error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	p.proto = "UDP"
	p.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	p.closer = func() { conn.Close() }
	p.write = func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := conn.WriteToUDPAddrPort(b, p.server)
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		seen := map[string]bool{}
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if !p.deliver(seen, buf[:n]) {
				return
			}
		}
	}()
	return nil
}

func (p *phone) openTCP() error {
	conn, err := (&net.Dialer{Timeout: replyTimeout}).Dial("tcp", p.server.String())
	if err != nil {
		return err
	}
	p.proto = "TCP"
	p.local = conn.LocalAddr().(*net.TCPAddr).AddrPort()
	p.closer = func() { conn.Close() }
	p.write = func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := conn.Write(b)
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		seen := map[string]bool{}
		r := bufio.NewReader(conn)
		for {
			m, err := readStreamMessage(r)
			if err != nil {
				return
			}
			if !p.deliver(seen, m) {
				return
			}
		}
	}()
	return nil
}

// deliver parses b and hands it to the waits, dropping exact duplicates
// (retransmissions over UDP).
func (p *phone) deliver(seen map[string]bool, b []byte) bool {
	if seen[string(b)] {
		start, _, _ := strings.Cut(string(b), "\r\n")
		p.mu.Lock()
		p.dups[start]++
		p.mu.Unlock()
		return true
	}
	seen[string(bytes.Clone(b))] = true
	select {
	case p.in <- parseMsg(string(b)):
		return true
	case <-p.done:
		return false
	}
}

// retransmitted returns how many copies of messages whose start line begins
// with prefix were absorbed.
func (p *phone) retransmitted(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.dups {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// contact is the phone's Contact URI.
func (p *phone) contact() string {
	c := "sip:" + p.user + "@" + p.local.String()
	if p.proto == "TCP" {
		c += ";transport=tcp"
	}
	return c
}

// aor is the phone's address of record in example.test.
func (p *phone) aor() string { return "sip:" + p.user + "@example.test" }

// via is a fresh Via value for a request the phone sends.
func (p *phone) via() string {
	return "SIP/2.0/" + p.proto + " " + p.local.String() + ";branch=z9hG4bK" + randHex(8) + ";rport"
}

// send writes a message to Parley.
func (p *phone) send(t testing.TB, m string) {
	t.Helper()
	if err := p.write([]byte(m)); err != nil {
		t.Fatalf("%s: send: %v", p.user, err)
	}
}

// register binds the phone's contact to its AOR; params follow the Contact
// (";q=0.5;expires=300").
func (p *phone) register(t testing.TB, params string) *sipMsg {
	t.Helper()
	p.mu.Lock()
	n := p.regCSeq
	p.regCSeq++
	p.mu.Unlock()
	m := buildMsg("REGISTER sip:example.test SIP/2.0", []string{
		"Via: " + p.via(), "Max-Forwards: 70",
		"From: <" + p.aor() + ">;tag=" + randHex(4), "To: <" + p.aor() + ">",
		"Call-ID: " + p.regCall, "CSeq: " + strconv.Itoa(n) + " REGISTER",
		"Contact: <" + p.contact() + ">" + params, "Expires: 600",
	}, "", "")
	p.send(t, m)
	res := p.response(t, 200, "REGISTER")
	return res
}

// --- waiting ------------------------------------------------------------------

// wait returns the first message, old or new, for which match holds, within
// replyTimeout; other messages are kept for later waits.
func (p *phone) wait(t testing.TB, what string, match func(*sipMsg) bool) *sipMsg {
	t.Helper()
	return p.waitUpTo(t, replyTimeout, what, match)
}

// waitUpTo is wait with a bound of d.
func (p *phone) waitUpTo(t testing.TB, d time.Duration, what string, match func(*sipMsg) bool) *sipMsg {
	t.Helper()
	if m := p.take(match); m != nil {
		return m
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m := <-p.in:
			if match(m) {
				return m
			}
			p.mu.Lock()
			p.backlog = append(p.backlog, m)
			p.mu.Unlock()
		case <-timer.C:
			t.Fatalf("%s (%s): no %s within %v; unconsumed:\n%s", p.user, p.proto, what, d, p.dump())
			return nil
		}
	}
}

// take removes and returns the first kept message matching, or nil.
func (p *phone) take(match func(*sipMsg) bool) *sipMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range p.backlog {
		if match(m) {
			p.backlog = append(p.backlog[:i], p.backlog[i+1:]...)
			return m
		}
	}
	return nil
}

// none fails the test when a message matching arrives (or is kept) within d.
func (p *phone) none(t testing.TB, d time.Duration, what string, match func(*sipMsg) bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for wait := true; ; {
		var m *sipMsg
		if wait {
			select {
			case m = <-p.in:
			case <-timer.C:
				wait = false // then drain what is already queued
				continue
			}
		} else {
			select {
			case m = <-p.in:
			default:
				if m := p.take(match); m != nil {
					t.Fatalf("%s: want no %s, got\n%s", p.user, what, m.raw)
				}
				return
			}
		}
		p.mu.Lock()
		p.backlog = append(p.backlog, m)
		p.mu.Unlock()
	}
}

func (p *phone) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.backlog {
		b.WriteString(m.raw)
		b.WriteString("----\n")
	}
	return b.String()
}

// request waits for a request of method.
func (p *phone) request(t testing.TB, method string) *sipMsg {
	t.Helper()
	return p.wait(t, method+" request", isRequest(method))
}

// response waits for a response with code to a request of method.
func (p *phone) response(t testing.TB, code int, method string) *sipMsg {
	t.Helper()
	return p.wait(t, fmt.Sprintf("%d response to %s", code, method), isResponse(code, method))
}

// final waits for any final response to method.
func (p *phone) final(t testing.TB, method string) *sipMsg {
	t.Helper()
	return p.wait(t, "final response to "+method, func(m *sipMsg) bool {
		return !m.isRequest() && m.code() >= 200 && m.cseqMethod() == method
	})
}

func isRequest(method string) func(*sipMsg) bool {
	return func(m *sipMsg) bool { return m.isRequest() && m.method() == method }
}

func isResponse(code int, method string) func(*sipMsg) bool {
	return func(m *sipMsg) bool { return !m.isRequest() && m.code() == code && m.cseqMethod() == method }
}

// --- answering (UAS) ---------------------------------------------------------

// tagFor returns the phone's To tag for a Call-ID.
func (p *phone) tagFor(callID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tags[callID] == "" {
		p.tags[callID] = randHex(5)
	}
	return p.tags[callID]
}

// msgOpts are extra header lines and a body for a message.
type msgOpts struct {
	hdrs  []string
	ctype string
	body  string
	mf    string // Max-Forwards of a request, "70" when empty
}

// with returns o with more header lines.
func (o msgOpts) with(h ...string) msgOpts {
	o.hdrs = append(append([]string(nil), o.hdrs...), h...)
	return o
}

// hdr is msgOpts holding header lines only.
func hdr(h ...string) msgOpts { return msgOpts{hdrs: h} }

// sdp is an offer or answer with audio, and video when asked (a re-INVITE).
func sdp(video bool) msgOpts {
	b := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	if video {
		b += "m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	}
	return msgOpts{ctype: "application/sdp", body: b}
}

// reply answers req (§8.2.6.2): Via, From, To, Call-ID and CSeq copied, a To
// tag added, and for a provisional or 2xx answer the Record-Route copied and a
// Contact added (§12.1.1). It returns what was sent.
func (p *phone) reply(t testing.TB, req *sipMsg, code int, reason string, o msgOpts) *sipMsg {
	t.Helper()
	var h []string
	for _, v := range req.lines("Via") {
		h = append(h, "Via: "+v)
	}
	h = append(h, "From: "+req.get("From"))
	to := req.get("To")
	if code > 100 && paramOf(to, "tag") == "" {
		to += ";tag=" + p.tagFor(req.get("Call-ID"))
	}
	h = append(h, "To: "+to, "Call-ID: "+req.get("Call-ID"), "CSeq: "+req.get("CSeq"))
	if code > 100 && code < 300 {
		for _, v := range req.lines("Record-Route") {
			h = append(h, "Record-Route: "+v)
		}
		if req.method() != "CANCEL" && req.method() != "BYE" && req.method() != "MESSAGE" {
			h = append(h, "Contact: <"+p.contact()+">")
		}
	}
	h = append(h, o.hdrs...)
	m := buildMsg(fmt.Sprintf("SIP/2.0 %d %s", code, reason), h, o.ctype, o.body)
	p.mu.Lock()
	first := !p.answered[req.list("Via")[0]]
	p.answered[req.list("Via")[0]] = true
	p.mu.Unlock()
	if first && !p.fast {
		time.Sleep(settle)
	}
	p.send(t, m)
	return parseMsg(m)
}

// accept answers req (a dialog-creating request) and returns the callee side
// of the dialog: route set = Record-Route in order, remote target = Contact (§12.1.1).
func (p *phone) accept(req *sipMsg) *dialog {
	callID := req.get("Call-ID")
	d := &dialog{p: p, callID: callID, localURI: uriOf(req.get("To")), localTag: p.tagFor(callID),
		remoteURI: uriOf(req.get("From")), remoteTag: paramOf(req.get("From"), "tag"),
		target: uriOf(req.get("Contact")), route: req.list("Record-Route"), cseq: 100}
	return d
}

// --- requests (UAC) ----------------------------------------------------------

// dialog is one side of a dialog (§12), or of a request that may create one.
type dialog struct {
	p                    *phone
	callID               string
	localURI, localTag   string
	remoteURI, remoteTag string
	target               string   // Request-URI: the remote target, or the AOR before the dialog
	route                []string // the route set, in the order of Route headers
	cseq                 int
	invite               *sipMsg // the last INVITE this side sent
}

// call starts the caller side of a request to the AOR to.
func (p *phone) call(to string) *dialog {
	return &dialog{p: p, callID: randHex(10) + "@e2e.invalid", localURI: p.aor(), localTag: randHex(5),
		remoteURI: to, target: to, cseq: 1}
}

// build returns a request of method in the dialog (or, before it, to the AOR).
// An ACK takes the CSeq number of the INVITE.
func (d *dialog) build(method string, o msgOpts) string {
	n := d.cseq
	if method == "ACK" && d.invite != nil {
		n, _ = d.invite.cseq()
	} else {
		d.cseq++
	}
	mf := o.mf
	if mf == "" {
		mf = "70"
	}
	h := []string{"Via: " + d.p.via(), "Max-Forwards: " + mf}
	for _, r := range d.route {
		h = append(h, "Route: "+r)
	}
	to := "<" + d.remoteURI + ">"
	if d.remoteTag != "" {
		to += ";tag=" + d.remoteTag
	}
	h = append(h, "From: <"+d.localURI+">;tag="+d.localTag, "To: "+to, "Call-ID: "+d.callID,
		"CSeq: "+strconv.Itoa(n)+" "+method)
	switch method {
	case "INVITE", "SUBSCRIBE", "NOTIFY", "REFER", "UPDATE":
		h = append(h, "Contact: <"+d.p.contact()+">")
	}
	h = append(h, o.hdrs...)
	return buildMsg(method+" "+d.target+" SIP/2.0", h, o.ctype, o.body)
}

// send builds a request (see build), sends it and returns it.
func (d *dialog) send(t testing.TB, method string, o msgOpts) *sipMsg {
	t.Helper()
	m := d.build(method, o)
	d.p.send(t, m)
	msg := parseMsg(m)
	if method == "INVITE" {
		d.invite = msg
	}
	return msg
}

// confirm takes the dialog state from a 1xx/2xx response on the caller side:
// remote tag, remote target from Contact, route set = Record-Route reversed
// (§12.1.2). A response inside an established dialog only refreshes the target.
func (d *dialog) confirm(res *sipMsg) {
	if c := res.get("Contact"); c != "" {
		d.target = uriOf(c)
	}
	if d.remoteTag != "" {
		return
	}
	d.remoteTag = toTag(res.raw)
	rr := res.list("Record-Route")
	d.route = nil
	for i := len(rr) - 1; i >= 0; i-- {
		d.route = append(d.route, rr[i])
	}
}

// ack sends the ACK for a 2xx to the last INVITE (§13.2.2.4): a new
// transaction along the route set.
func (d *dialog) ack(t testing.TB) *sipMsg {
	t.Helper()
	return d.send(t, "ACK", msgOpts{})
}

// ackFinal sends the ACK for a non-2xx final response to the last INVITE
// (§17.1.1.3): same Request-URI, top Via, Route and CSeq number, To of the response.
func (d *dialog) ackFinal(t testing.TB, res *sipMsg) {
	t.Helper()
	d.p.send(t, derived(d.invite, "ACK", res.get("To")))
}

// cancel sends a CANCEL for the last INVITE (§9.1).
func (d *dialog) cancel(t testing.TB) *sipMsg {
	t.Helper()
	m := derived(d.invite, "CANCEL", d.invite.get("To"))
	d.p.send(t, m)
	return parseMsg(m)
}

// derived builds an ACK or CANCEL from an INVITE (§9.1, §17.1.1.3).
func derived(inv *sipMsg, method, to string) string {
	h := []string{"Via: " + inv.list("Via")[0], "Max-Forwards: 70"}
	for _, r := range inv.lines("Route") {
		h = append(h, "Route: "+r)
	}
	n, _ := inv.cseq()
	h = append(h, "From: "+inv.get("From"), "To: "+to, "Call-ID: "+inv.get("Call-ID"),
		"CSeq: "+strconv.Itoa(n)+" "+method)
	return buildMsg(method+" "+inv.ruri()+" SIP/2.0", h, "", "")
}

// buildMsg joins a start line, header lines and a body into a message.
func buildMsg(start string, hdrs []string, ctype, body string) string {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range hdrs {
		b.WriteString(h + "\r\n")
	}
	if body != "" && ctype != "" {
		b.WriteString("Content-Type: " + ctype + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// --- servers -----------------------------------------------------------------

// proxyServer starts Parley on UDP and TCP loopback, authentication off,
// domain example.test, with edit applied to the configuration.
func proxyServer(t *testing.T, edit func(*config.Config)) *server {
	t.Helper()
	return startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, edit: edit})
}

// uniq returns name with a random suffix, so that tests sharing a server do
// not see each other's bindings.
func uniq(name string) string { return name + randHex(3) }

// pair opens and registers a caller and a callee on the listeners ck and ek.
func pair(t *testing.T, s *server, ck, ek string) (caller, callee *phone) {
	t.Helper()
	caller, callee = newPhone(t, s, ck, uniq("alice")), newPhone(t, s, ek, uniq("bob"))
	caller.register(t, "")
	callee.register(t, "")
	return caller, callee
}
