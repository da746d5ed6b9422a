package test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStreamFraming: RFC 3261 §18.3 — on a stream, messages are cut by
// Content-Length: two requests in one write get two answers, and a request
// split over writes gets one. RFC 5626 §4.4.1: a double-CRLF ping gets a
// single-CRLF pong, and the connection then carries SIP again.
func TestStreamFraming(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"tcp:127.0.0.1:0", "tls:127.0.0.1:0"}})
	for _, key := range []string{"tcp", "tls"} {
		t.Run(key, func(t *testing.T) {
			c := dial(t, s, key)
			first, second := c.fill(optionsTo("sip:$TARGET")), c.fill(optionsTo("sip:example.test"))
			c.sendRaw([]byte(first + second))
			// Each request is its own transaction, so the answers may come in
			// either order.
			want := map[string]bool{}
			for _, req := range []string{first, second} {
				id, _ := header(req, "Call-ID")
				want[id] = true
			}
			for range 2 {
				id, _ := header(c.expect(t, `^SIP/2.0 200 `), "Call-ID")
				if !want[id] {
					t.Errorf("answer for Call-ID %q, want one of %v", id, want)
				}
				delete(want, id)
			}

			m := []byte(c.fill(optionsTo("sip:$TARGET")))
			for _, part := range [][]byte{m[:9], m[9:60], m[60:]} {
				c.sendRaw(part)
				time.Sleep(20 * time.Millisecond)
			}
			c.expect(t, `^SIP/2.0 200 `)
		})
	}
	t.Run("ping", func(t *testing.T) {
		a := s.addr(t, "tcp")
		conn, err := net.DialTimeout("tcp", a.String(), replyTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(replyTimeout))
		if _, err := conn.Write([]byte("\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		pong := make([]byte, 2)
		if _, err := io.ReadFull(conn, pong); err != nil || !bytes.Equal(pong, []byte("\r\n")) {
			t.Fatalf("pong %q, %v; want CRLF", pong, err)
		}
		msg := strings.NewReplacer("$TARGET", a.String(), "$LOCAL", conn.LocalAddr().String(),
			"$TRANSPORT", "TCP", "$BRANCH", "z9hG4bK"+randHex(8), "$CALLID", randHex(8), "$TAG", randHex(4),
			"\n", "\r\n").Replace(optionsTo("sip:$TARGET"))
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 12)
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "SIP/2.0 200 " {
			t.Fatalf("after the ping: read %q, %v", buf, err)
		}
	})
}

// TestHTTPHealth: the management listener on 127.0.0.1:0 answers /healthz.
func TestHTTPHealth(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}, http: "127.0.0.1:0"})
	a := s.app.HTTPAddr()
	if a == nil {
		t.Fatal("no HTTP address")
	}
	cl := &http.Client{Timeout: replyTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	res, err := cl.Get("http://" + a.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("GET /healthz: %d %q", res.StatusCode, body)
	}
}

// TestReloadInProcess: App.Reload swaps the served domains at once and
// refuses a change that needs a restart (STYLE.md 6), keeping the old
// configuration.
func TestReloadInProcess(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0"}})
	c := dial(t, s, "udp")
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 [3-6]\d\d `)

	next := *s.cfg
	next.Domain = []string{"example.test", "newdomain.test"}
	if err := s.app.Reload(&next); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 200 `)

	bad := next
	bad.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	if err := s.app.Reload(&bad); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Reload changing listen: err %v, want a refusal naming listen", err)
	}
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 200 `)
}
