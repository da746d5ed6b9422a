package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// client is a raw SIP client on one transport. send writes a message built
// from a template, expect reads the next one. Every wait is bounded.
//
// Templates use these placeholders, filled by fill:
//
//	$TARGET     the server listener's host:port ("[::1]:5060" for IPv6)
//	$LOCAL      the client's own host:port
//	$TRANSPORT  UDP, TCP, TLS, WS or WSS, for the Via
//	$BRANCH     a fresh RFC 3261 branch (z9hG4bK...)
//	$CALLID     a fresh Call-ID
//	$TAG        a fresh From tag
//
// Lines may end in "\n" alone; fill turns them into CRLF.
type client struct {
	t      testing.TB
	proto  string // "UDP", "TCP", "TLS", "WS", "WSS"
	target netip.AddrPort
	local  netip.AddrPort
	write  func([]byte) error
	in     chan []byte
	done   chan struct{}
	once   sync.Once
	closer func()
	wg     sync.WaitGroup
}

// dial opens a client to the listener key of s ("udp", "tcp", "tls", "ws",
// "wss", "udp6"); it is closed when the test ends.
func dial(t testing.TB, s *server, key string) *client {
	t.Helper()
	target, ok := s.addrs[key]
	if !ok {
		t.Fatalf("no %s listener (have %v)", key, s.addrs)
	}
	c := &client{t: t, target: target, in: make(chan []byte, 64), done: make(chan struct{})}
	var err error
	switch key {
	case "udp", "udp6":
		err = c.dialUDP()
	case "tcp", "tls":
		err = c.dialStream(key == "tls")
	case "ws", "wss":
		err = c.dialWS(key == "wss", s.paths[key])
	default:
		t.Fatalf("unknown transport %q", key)
	}
	if err != nil {
		t.Fatalf("dial %s %s: %v", key, target, err)
	}
	t.Cleanup(c.close)
	return c
}

// dialUDPTo opens a UDP client to target, for a server that is not a *server
// (the parley binary).
func dialUDPTo(t testing.TB, target netip.AddrPort) *client {
	t.Helper()
	c := &client{t: t, target: target, in: make(chan []byte, 64), done: make(chan struct{})}
	if err := c.dialUDP(); err != nil {
		t.Fatalf("dial udp %s: %v", target, err)
	}
	t.Cleanup(c.close)
	return c
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		c.closer()
	})
	c.wg.Wait()
}

// deliver hands a received message to expect, unless the client is closing.
func (c *client) deliver(b []byte) bool {
	select {
	case c.in <- b:
		return true
	case <-c.done:
		return false
	}
}

func (c *client) dialUDP() error {
	laddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
	if c.target.Addr().Is6() {
		laddr = netip.AddrPortFrom(netip.IPv6Loopback(), 0)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(laddr))
	if err != nil {
		return err
	}
	c.proto = "UDP"
	c.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c.closer = func() { conn.Close() }
	c.write = func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := conn.WriteToUDPAddrPort(b, c.target)
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if !c.deliver(bytes.Clone(buf[:n])) {
				return
			}
		}
	}()
	return nil
}

func (c *client) dialStream(secure bool) error {
	d := &net.Dialer{Timeout: replyTimeout}
	var conn net.Conn
	var err error
	c.proto = "TCP"
	if secure {
		c.proto = "TLS"
		conn, err = tls.DialWithDialer(d, "tcp", c.target.String(), &tls.Config{InsecureSkipVerify: true})
	} else {
		conn, err = d.Dial("tcp", c.target.String())
	}
	if err != nil {
		return err
	}
	c.local = conn.LocalAddr().(*net.TCPAddr).AddrPort()
	c.closer = func() { conn.Close() }
	c.write = func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := conn.Write(b)
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r := bufio.NewReader(conn)
		for {
			m, err := readStreamMessage(r)
			if err != nil {
				return
			}
			if !c.deliver(m) {
				return
			}
		}
	}()
	return nil
}

// readStreamMessage reads one SIP message framed by Content-Length (RFC 3261
// §18.3), skipping CRLF keepalives.
func readStreamMessage(r *bufio.Reader) ([]byte, error) {
	var head bytes.Buffer
	clen := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == "\r\n" || line == "\n" {
			if head.Len() == 0 {
				continue // keepalive
			}
			head.WriteString(line)
			break
		}
		head.WriteString(line)
		name, val, ok := strings.Cut(line, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "content-length" || n == "l") {
			clen, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(head.Bytes(), body...), nil
}

func (c *client) dialWS(secure bool, path string) error {
	var local netip.AddrPort
	var mu sync.Mutex
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				mu.Lock()
				local = conn.LocalAddr().(*net.TCPAddr).AddrPort()
				mu.Unlock()
			}
			return conn, err
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	scheme := "ws"
	c.proto = "WS"
	if secure {
		scheme, c.proto = "wss", "WSS"
	}
	if path == "" {
		path = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, scheme+"://"+c.target.String()+path, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		Subprotocols: []string{"sip"},
	})
	if err != nil {
		return err
	}
	if ws.Subprotocol() != "sip" {
		ws.CloseNow()
		return fmt.Errorf("server chose subprotocol %q, want sip", ws.Subprotocol())
	}
	mu.Lock()
	c.local = local
	mu.Unlock()
	rctx, rcancel := context.WithCancel(context.Background())
	c.closer = func() {
		rcancel()
		ws.CloseNow()
		tr.CloseIdleConnections()
	}
	c.write = func(b []byte) error {
		wctx, cancel := context.WithTimeout(rctx, replyTimeout)
		defer cancel()
		return ws.Write(wctx, websocket.MessageText, b)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			_, m, err := ws.Read(rctx)
			if err != nil {
				return
			}
			if !c.deliver(m) {
				return
			}
		}
	}()
	return nil
}

// fill expands the placeholders of tmpl with fresh values and CRLF line ends.
func (c *client) fill(tmpl string) string {
	r := strings.NewReplacer(
		"$TARGET", c.target.String(),
		"$LOCAL", c.local.String(),
		"$TRANSPORT", c.proto,
		"$BRANCH", "z9hG4bK"+randHex(8),
		"$CALLID", randHex(10)+"@e2e.invalid",
		"$TAG", randHex(6),
	)
	s := r.Replace(tmpl)
	if !strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	return s
}

// send fills tmpl (see fill) and writes it as one message.
func (c *client) send(tmpl string) string {
	c.t.Helper()
	m := c.fill(tmpl)
	c.sendRaw([]byte(m))
	return m
}

// sendRaw writes b unchanged as one datagram, stream write or WebSocket message.
func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	if err := c.write(b); err != nil {
		c.t.Fatalf("%s send: %v", c.proto, err)
	}
}

// expect returns the next message, which must match the regular expression
// re. Provisional responses that do not match are skipped, so that an
// INVITE's 100 Trying does not get in the way of its final response.
func (c *client) expect(t testing.TB, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timer := time.NewTimer(replyTimeout)
	defer timer.Stop()
	for {
		select {
		case m := <-c.in:
			s := string(m)
			if rx.MatchString(s) {
				return s
			}
			if strings.HasPrefix(s, "SIP/2.0 1") {
				continue
			}
			t.Fatalf("%s: got\n%s\nwant a message matching %q", c.proto, s, re)
			return ""
		case <-timer.C:
			t.Fatalf("%s: no message matching %q within %v", c.proto, re, replyTimeout)
			return ""
		}
	}
}

// expectNone checks that nothing arrives for d.
func (c *client) expectNone(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.in:
		t.Fatalf("%s: want no message, got\n%s", c.proto, m)
	case <-time.After(d):
	}
}

// recv returns the next message or an error after d.
func (c *client) recv(d time.Duration) (string, error) {
	select {
	case m := <-c.in:
		return string(m), nil
	case <-time.After(d):
		return "", errors.New("timeout")
	}
}

// header returns the value of the first header called name (or its compact
// form) in msg, and whether it was found.
func header(msg, name string, compact ...string) (string, bool) {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	for _, l := range lines[1:] {
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n = strings.TrimSpace(n)
		if strings.EqualFold(n, name) || (len(compact) > 0 && strings.EqualFold(n, compact[0])) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// statusCode returns the code of a response's status line, or 0.
func statusCode(msg string) int {
	if !strings.HasPrefix(msg, "SIP/2.0 ") || len(msg) < 11 {
		return 0
	}
	n, _ := strconv.Atoi(msg[8:11])
	return n
}

// toTag returns the tag parameter of the To header of msg.
func toTag(msg string) string {
	to, _ := header(msg, "To", "t")
	_, tag, ok := strings.Cut(to, ";tag=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(tag, ";> "); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// ackFor builds the ACK for a non-2xx final response to invite (RFC 3261
// §17.1.1.3): same Request-URI, branch, Call-ID, From and CSeq number, and the
// To of the response.
func ackFor(invite, resp string) string {
	lines := strings.Split(strings.SplitN(invite, "\r\n\r\n", 2)[0], "\r\n")
	ruri := strings.Fields(lines[0])[1]
	var b strings.Builder
	b.WriteString("ACK " + ruri + " SIP/2.0\r\n")
	for _, l := range lines[1:] {
		n, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "via", "from", "call-id", "max-forwards":
			b.WriteString(l + "\r\n")
		case "cseq":
			num, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			b.WriteString("CSeq: " + num + " ACK\r\n")
		}
	}
	to, _ := header(resp, "To", "t")
	b.WriteString("To: " + to + "\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// regexpMatch reports whether s matches re.
func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
