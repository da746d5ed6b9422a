package test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/transport/resolve/resolvetest"
)

// foreignPhone is a UA of another domain that Parley connects to: a TCP
// listener on 127.0.0.1:0, answering on the connection a request came on.
// It has the phone's waits and replies; its contact is its listener.
func foreignPhone(t *testing.T, user string) *phone {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{user: user, proto: "TCP", local: ln.Addr().(*net.TCPAddr).AddrPort(), in: make(chan *sipMsg, 256),
		done: make(chan struct{}), tags: map[string]string{}, regCSeq: 1, dups: map[string]int{},
		answered: map[string]bool{}}
	var mu sync.Mutex
	var conns []net.Conn
	p.write = func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if len(conns) == 0 {
			return errors.New("Parley has not connected")
		}
		c := conns[len(conns)-1]
		c.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := c.Write(b)
		return err
	}
	p.closer = func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			p.wg.Add(1)
			go p.readStream(c)
		}
	}()
	t.Cleanup(p.close)
	return p
}

// readStream hands the messages of one connection to the phone's waits.
func (p *phone) readStream(c net.Conn) {
	defer p.wg.Done()
	seen := map[string]bool{}
	r := bufio.NewReader(c)
	for {
		m, err := readStreamMessage(r)
		if err != nil || !p.deliver(seen, m) {
			return
		}
	}
}

// closedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
	ln.Close()
	return port
}

// dnsServer starts a DNS server and a Parley (UDP and TCP, auth off) that
// asks it, with edit applied to the configuration.
func dnsServer(t *testing.T, edit func(*config.Config)) (*server, *resolvetest.Server) {
	t.Helper()
	ns := resolvetest.Start(t)
	s := proxyServer(t, func(c *config.Config) {
		c.DNS.Servers = []string{ns.Addr}
		if edit != nil {
			edit(c)
		}
	})
	return s, ns
}

// callForeign sends an INVITE from a user of ours to uri, has callee answer
// it with code, and checks what the caller gets. With 200 the call is then
// acknowledged and hung up along the route set.
func callForeign(t *testing.T, s *server, uri string, callee *phone, code int) {
	t.Helper()
	alice := newPhone(t, s, "udp", uniq("alice"))
	alice.register(t, "")
	d := alice.call(uri)
	d.send(t, "INVITE", sdp(false))
	in := callee.request(t, "INVITE")
	if in.ruri() != uri {
		t.Errorf("INVITE Request-URI %q, want %q unchanged", in.ruri(), uri)
	}
	if v := in.list("Via"); len(v) != 2 || !strings.HasPrefix(v[0], "SIP/2.0/TCP ") {
		t.Errorf("INVITE Vias %q, want Parley's over TCP above alice's", v)
	}
	if code != 200 {
		callee.reply(t, in, code, "Busy Here", msgOpts{})
		callee.request(t, "ACK")
		res := alice.final(t, "INVITE")
		if res.code() != code {
			t.Errorf("caller got %q, want %d", res.start, code)
		}
		d.ackFinal(t, res)
		return
	}
	callee.reply(t, in, 200, "OK", sdp(false))
	res := alice.response(t, 200, "INVITE")
	d.confirm(res)
	d.ack(t)
	callee.request(t, "ACK")
	hangup(t, d, callee, alice)
}

// TestProxyRFC3263s4_ForeignDomain: a request of one of our users for
// another domain is forwarded where the DNS says (RFC 3263 §4): NAPTR
// SIP+D2T to _sip._tcp.foreign.test, SRV to a UA on 127.0.0.1 over TCP. A
// domain with SRV records for TCP only (no NAPTR) is found too, and a
// domain that does not exist gets 404.
func TestProxyRFC3263s4_ForeignDomain(t *testing.T) {
	s, ns := dnsServer(t, nil)
	t.Run("NAPTR, SRV, A over TCP", func(t *testing.T) {
		bob := foreignPhone(t, "bob")
		ns.Add(t,
			`foreign.test. 60 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.foreign.test.`,
			`foreign.test. 60 IN NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp.foreign.test.`,
			fmt.Sprintf(`_sip._tcp.foreign.test. 60 IN SRV 10 10 %d uas.foreign.test.`, bob.local.Port()),
			`uas.foreign.test. 60 IN A 127.0.0.1`)
		callForeign(t, s, "sip:bob@foreign.test", bob, 200)
		if ns.Queries("foreign.test", dns.TypeNAPTR) == 0 || ns.Queries("_sip._tcp.foreign.test", dns.TypeSRV) == 0 {
			t.Error("Parley did not ask for the NAPTR and SRV records")
		}
	})
	t.Run("SRV for TCP only", func(t *testing.T) {
		carol := foreignPhone(t, "carol")
		ns.Add(t,
			`tcponly.test. 60 IN A 127.0.0.2`, // the domain exists, without NAPTR
			fmt.Sprintf(`_sip._tcp.tcponly.test. 60 IN SRV 0 0 %d uas.tcponly.test.`, carol.local.Port()),
			`uas.tcponly.test. 60 IN A 127.0.0.1`)
		callForeign(t, s, "sip:carol@tcponly.test", carol, 486)
	})
	t.Run("unknown domain 404", func(t *testing.T) {
		alice := newPhone(t, s, "udp", uniq("alice"))
		d := alice.call("sip:dave@nowhere.test")
		d.send(t, "MESSAGE", msgOpts{ctype: "text/plain", body: "hi"})
		if res := alice.final(t, "MESSAGE"); res.code() != 404 {
			t.Errorf("got %q, want 404 for a domain that does not exist", res.start)
		}
	})
}

// TestProxyRFC3263s4_3_Failover: when the first destination of the DNS
// fails — a closed TCP port (transport error), a 503, or silence until
// Timer B (timeout) — Parley sends the request to the next one, as a new
// transaction (RFC 3263 §4.3).
func TestProxyRFC3263s4_3_Failover(t *testing.T) {
	s, ns := dnsServer(t, nil)
	t.Run("closed port", func(t *testing.T) {
		bob := foreignPhone(t, "bob")
		ns.Add(t,
			`dead.test. 60 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.dead.test.`,
			fmt.Sprintf(`_sip._tcp.dead.test. 60 IN SRV 10 10 %d uas.dead.test.`, closedPort(t)),
			fmt.Sprintf(`_sip._tcp.dead.test. 60 IN SRV 20 10 %d uas.dead.test.`, bob.local.Port()),
			`uas.dead.test. 60 IN A 127.0.0.1`)
		callForeign(t, s, "sip:bob@dead.test", bob, 200)
	})
	t.Run("503", func(t *testing.T) {
		first, second := foreignPhone(t, "first"), foreignPhone(t, "second")
		ns.Add(t,
			fmt.Sprintf(`_sip._tcp.busy.test. 60 IN SRV 10 10 %d a.busy.test.`, first.local.Port()),
			fmt.Sprintf(`_sip._tcp.busy.test. 60 IN SRV 20 10 %d a.busy.test.`, second.local.Port()),
			`a.busy.test. 60 IN A 127.0.0.1`)
		alice := newPhone(t, s, "udp", uniq("alice"))
		d := alice.call("sip:bob@busy.test;transport=tcp")
		d.send(t, "INVITE", sdp(false))
		in := first.request(t, "INVITE")
		first.reply(t, in, 503, "Service Unavailable", msgOpts{})
		first.request(t, "ACK")
		again := second.request(t, "INVITE")
		if b1, b2 := paramOf(in.list("Via")[0], "branch"), paramOf(again.list("Via")[0], "branch"); b1 == b2 {
			t.Errorf("the retry has the same Via branch %q, want a new transaction", b1)
		}
		second.reply(t, again, 486, "Busy Here", msgOpts{})
		second.request(t, "ACK")
		if res := alice.final(t, "INVITE"); res.code() != 486 {
			t.Errorf("caller got %q, want the second server's 486", res.start)
		} else {
			d.ackFinal(t, res)
		}
	})
}

// TestProxyRFC3263s4_3_FailoverTimeout: a UDP destination that never
// answers is given up at Timer B (64*T1, T1 shortened here), and the next
// SRV target gets the request.
func TestProxyRFC3263s4_3_FailoverTimeout(t *testing.T) {
	s, ns := dnsServer(t, func(c *config.Config) { c.Timers.T1 = config.Duration(20 * time.Millisecond) })
	hole, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	bob := newPhone(t, s, "udp", "bob") // not registered: it only answers what Parley sends it
	ns.Add(t,
		fmt.Sprintf(`_sip._udp.quiet.test. 60 IN SRV 10 10 %d a.quiet.test.`, hole.LocalAddr().(*net.UDPAddr).Port),
		fmt.Sprintf(`_sip._udp.quiet.test. 60 IN SRV 20 10 %d a.quiet.test.`, bob.local.Port()),
		`a.quiet.test. 60 IN A 127.0.0.1`)
	alice := newPhone(t, s, "udp", uniq("alice"))
	d := alice.call("sip:bob@quiet.test")
	d.send(t, "MESSAGE", msgOpts{ctype: "text/plain", body: "anyone?"})
	hole.SetReadDeadline(time.Now().Add(replyTimeout))
	buf := make([]byte, 65536)
	if n, _, err := hole.ReadFromUDP(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "MESSAGE ") {
		t.Fatalf("the first SRV target got %q, %v; want the MESSAGE", buf[:n], err)
	}
	in := bob.waitUpTo(t, 5*time.Second, "MESSAGE after Timer F", isRequest("MESSAGE"))
	bob.reply(t, in, 200, "OK", msgOpts{})
	if res := alice.final(t, "MESSAGE"); res.code() != 200 {
		t.Errorf("caller got %q, want the second server's 200", res.start)
	}
}

// TestProxyRFC3261s16_6_OutboundProxy: with proxy.outbound_proxy every
// request for another domain goes to it (its name resolved by RFC 3263,
// here SRV _sip._tcp), with the Request-URI unchanged; the foreign domain
// itself is not looked up.
func TestProxyRFC3261s16_6_OutboundProxy(t *testing.T) {
	ns := resolvetest.Start(t)
	gw := foreignPhone(t, "gw")
	ns.Add(t,
		fmt.Sprintf(`_sip._tcp.obp.test. 60 IN SRV 0 0 %d host.obp.test.`, gw.local.Port()),
		`host.obp.test. 60 IN A 127.0.0.1`)
	s := proxyServer(t, func(c *config.Config) {
		c.DNS.Servers = []string{ns.Addr}
		c.Proxy.OutboundProxy = "sip:obp.test;transport=tcp"
	})
	callForeign(t, s, "sip:erin@elsewhere.test", gw, 200)
	for _, q := range []uint16{dns.TypeNAPTR, dns.TypeA} {
		if n := ns.Queries("elsewhere.test", q); n != 0 {
			t.Errorf("the foreign domain was looked up (%s, %d times); the outbound proxy should take it", dns.TypeToString[q], n)
		}
	}
}
