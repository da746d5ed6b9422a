package transport

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestStreamRoundTrip(t *testing.T) {
	for _, proto := range []string{"tcp", "tls"} {
		for _, host := range []string{"127.0.0.1", "[::1]"} {
			t.Run(proto+" "+host, func(t *testing.T) {
				skipNoIPv6(t, host)
				cfg, _ := tlsConfig(t)
				l, rec := echoLayer(t, cfg)
				ln := listen(t, l, proto+":"+host+":0")
				nc := dialStream(t, ln)
				req := optionsMsg(strings.ToUpper(proto), "rt")
				if _, err := nc.Write([]byte(req)); err != nil {
					t.Fatal(err)
				}
				if reply := readSIP(t, bufio.NewReader(nc)); !strings.HasPrefix(reply, "SIP/2.0 200 OK\r\n") {
					t.Fatalf("reply %q", reply)
				}
				g := rec.next(t)
				want := Packet{Source: addrPortOf(nc.LocalAddr()), Local: addrPortOf(nc.RemoteAddr()), Proto: ln.Proto(), Conn: g.pkt.Conn, Listener: ln}
				if g.data != req || g.pkt.Conn == 0 || !samePacket(g.pkt, want) {
					t.Fatalf("got %+v, want %+v", g.pkt, want)
				}
				if !l.ConnAlive(g.pkt.Conn) {
					t.Error("connection not alive")
				}
				waitFor(t, "the reply to be counted", func() bool { return l.Stats().For(ln.Proto()).MessagesOut == 1 })
				st := l.Stats().For(ln.Proto())
				if st.MessagesIn != 1 || st.ConnsOpen != 1 || st.ConnsAccepted != 1 {
					t.Errorf("stats %+v", st)
				}
			})
		}
	}
}

// TestStreamFramingOnWire sends pipelined, split and keepalive traffic on
// a real connection.
func TestStreamFramingOnWire(t *testing.T) {
	rec := newRecorder()
	l := newLayer(t, Config{}, rec)
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	m1, m2, m3 := optionsMsg("TCP", "1"), msgWithBody("two"), msgWithBody("three")
	nc.Write([]byte("\r\n" + m1 + m2 + m3[:20]))
	for _, want := range []string{m1, m2} {
		if g := rec.next(t); g.data != want {
			t.Fatalf("got %q, want %q", g.data, want)
		}
	}
	rec.none(t, 20*time.Millisecond)
	nc.Write([]byte(m3[20:] + "\r\n\r\n"))
	if g := rec.next(t); g.data != m3 {
		t.Fatalf("got %q, want %q", g.data, m3)
	}
	// RFC 5626 §4.4.1: the ping is answered with a pong.
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	pong := make([]byte, 8)
	if n, err := nc.Read(pong); err != nil || string(pong[:n]) != "\r\n" {
		t.Fatalf("pong = %q, %v", pong[:n], err)
	}
	if st := l.Stats().TCP; st.MessagesIn != 3 || st.KeepalivesIn != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestStreamFramingErrorCloses(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		counter func(ProtoStats) uint64
	}{
		{"missing CL", "OPTIONS sip:a SIP/2.0\r\nTo: b\r\n\r\n", func(s ProtoStats) uint64 { return s.DroppedGarbage }},
		{"negative CL", "OPTIONS sip:a SIP/2.0\r\nContent-Length: -4\r\n\r\n", func(s ProtoStats) uint64 { return s.DroppedGarbage }},
		{"header too big", "OPTIONS sip:a SIP/2.0\r\nX: " + strings.Repeat("h", 300), func(s ProtoStats) uint64 { return s.DroppedOversize }},
		{"body too big", msgWithBody(strings.Repeat("b", 600)), func(s ProtoStats) uint64 { return s.DroppedOversize }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closed := make(chan ConnID, 1)
			rec := newRecorder()
			cfg := Config{MaxMessageSize: 512, MaxHeaderBytes: 256, OnConnClose: func(id ConnID, p Proto, _ netip.AddrPort) { closed <- id }}
			l := newLayer(t, cfg, rec)
			ln := listen(t, l, "tcp:127.0.0.1:0")
			nc := dialStream(t, ln)
			good := msgWithBody("ok")
			nc.Write([]byte(good + tt.data))
			g := rec.next(t)
			expectClosed(t, nc)
			select {
			case id := <-closed:
				if id != g.pkt.Conn {
					t.Errorf("OnConnClose(%d), want %d", id, g.pkt.Conn)
				}
			case <-time.After(testTimeout):
				t.Fatal("OnConnClose not called")
			}
			if n := tt.counter(l.Stats().TCP); n != 1 {
				t.Errorf("counter = %d; stats %+v", n, l.Stats().TCP)
			}
			if l.ConnAlive(g.pkt.Conn) || l.Stats().TCP.ConnsOpen != 0 {
				t.Error("connection still in the table")
			}
		})
	}
}

func TestClientCloseNotifies(t *testing.T) {
	type closeEvent struct {
		id     ConnID
		p      Proto
		remote netip.AddrPort
	}
	events := make(chan closeEvent, 1)
	cfg := Config{OnConnClose: func(id ConnID, p Proto, r netip.AddrPort) { events <- closeEvent{id, p, r} }}
	l, rec := echoLayer(t, cfg)
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	nc.Write([]byte(optionsMsg("TCP", "c")))
	g := rec.next(t)
	if !l.ConnAlive(g.pkt.Conn) {
		t.Fatal("not alive after a message")
	}
	nc.Close()
	select {
	case ev := <-events:
		if want := (closeEvent{g.pkt.Conn, TCP, g.pkt.Source}); ev != want {
			t.Errorf("OnConnClose%+v, want %+v", ev, want)
		}
	case <-time.After(testTimeout):
		t.Fatal("OnConnClose not called")
	}
	if l.ConnAlive(g.pkt.Conn) {
		t.Error("ConnAlive true after the client closed")
	}
	if _, err := l.Send(Dest{Conn: g.pkt.Conn}, []byte("x")); err == nil {
		t.Error("Send on a closed connection succeeded")
	}
}

func TestCloseConn(t *testing.T) {
	rec := newRecorder()
	l := newLayer(t, Config{}, rec)
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	nc.Write([]byte(optionsMsg("TCP", "cc")))
	id := rec.next(t).pkt.Conn
	l.CloseConn(id)
	if l.ConnAlive(id) {
		t.Error("alive after CloseConn")
	}
	expectClosed(t, nc)
	l.CloseConn(id) // no-op
}

func TestIdleTimeout(t *testing.T) {
	const idle = 150 * time.Millisecond
	rec := newRecorder()
	l := newLayer(t, Config{IdleTimeout: idle}, rec)
	ln := listen(t, l, "tcp:127.0.0.1:0")

	quiet := dialStream(t, ln)
	quiet.Write([]byte(optionsMsg("TCP", "quiet")))
	quietID := rec.next(t).pkt.Conn

	// A client sending CRLF keepalives more often than the timeout stays.
	busy := dialStream(t, ln)
	busy.Write([]byte(optionsMsg("TCP", "busy")))
	busyID := rec.next(t).pkt.Conn

	start := time.Now()
	for time.Since(start) < 3*idle {
		busy.Write([]byte("\r\n"))
		time.Sleep(idle / 4)
	}
	expectClosed(t, quiet)
	if time.Since(start) < idle/2 {
		t.Error("closed too early")
	}
	if l.ConnAlive(quietID) {
		t.Error("idle connection still alive")
	}
	if !l.ConnAlive(busyID) {
		t.Error("connection with keepalives was closed")
	}
}

// TestIdleTimeoutCountsWrites checks that traffic we send keeps a
// connection open too.
func TestIdleTimeoutCountsWrites(t *testing.T) {
	const idle = 150 * time.Millisecond
	rec := newRecorder()
	l := newLayer(t, Config{IdleTimeout: idle}, rec)
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	nc.Write([]byte(optionsMsg("TCP", "w")))
	id := rec.next(t).pkt.Conn
	for range 8 {
		time.Sleep(idle / 3)
		if _, err := l.Send(Dest{Conn: id}, []byte(msgWithBody("n"))); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if !l.ConnAlive(id) {
		t.Fatal("connection closed though we kept writing")
	}
}

func TestPerIPLimitTCP(t *testing.T) {
	rec := newRecorder()
	l := newLayer(t, Config{MaxConnsPerIP: 2}, rec)
	ln := listen(t, l, "tcp:127.0.0.1:0")
	var conns []net.Conn
	for i := range 2 {
		nc := dialStream(t, ln)
		nc.Write([]byte(optionsMsg("TCP", uniq(i))))
		rec.next(t)
		conns = append(conns, nc)
	}
	extra := dialStream(t, ln)
	expectClosed(t, extra)
	if st := l.Stats().TCP; st.ConnsRefused != 1 || st.ConnsOpen != 2 {
		t.Fatalf("stats %+v", st)
	}
	conns[0].Close()
	waitFor(t, "the slot to free", func() bool { return l.ips.count(netip.MustParseAddr("127.0.0.1")) < 2 })
	nc := dialStream(t, ln)
	nc.Write([]byte(optionsMsg("TCP", "again")))
	rec.next(t)
}

// TestSlowStreamClientDoesNotBlock keeps a half-sent message open while
// another client completes an exchange.
func TestSlowStreamClientDoesNotBlock(t *testing.T) {
	l, rec := echoLayer(t, Config{})
	ln := listen(t, l, "tcp:127.0.0.1:0")
	slow := dialStream(t, ln)
	slow.Write([]byte(optionsMsg("TCP", "slow")[:30]))
	fast := dialStream(t, ln)
	fast.Write([]byte(optionsMsg("TCP", "fast")))
	if reply := readSIP(t, bufio.NewReader(fast)); !strings.HasPrefix(reply, "SIP/2.0 200") {
		t.Fatalf("reply %q", reply)
	}
	rec.next(t)
}

func TestSendDialsTCP(t *testing.T) {
	srv, srvRec := echoLayer(t, Config{})
	ln := listen(t, srv, "tcp:127.0.0.1:0")
	cliRec := newRecorder()
	cli := newLayer(t, Config{}, cliRec)

	// Concurrent first sends share one dial.
	var wg sync.WaitGroup
	ids := make([]ConnID, 8)
	for i := range ids {
		wg.Go(func() {
			var err error
			ids[i], err = cli.Send(Dest{Proto: TCP, Addr: ln.Addr()}, []byte(optionsMsg("TCP", uniq(i))))
			if err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == 0 || id != ids[0] {
			t.Fatalf("connections used: %v", ids)
		}
	}
	// The server sees them all on one connection and answers on it; the
	// answers are read from the dialed connection.
	for range ids {
		srvRec.next(t)
		g := cliRec.next(t)
		if !strings.HasPrefix(g.data, "SIP/2.0 200 OK") || g.pkt.Conn != ids[0] || g.pkt.Listener != nil || g.pkt.Source != ln.Addr() {
			t.Fatalf("client got %+v %q", g.pkt, g.data)
		}
	}
	if st := cli.Stats().TCP; st.ConnsDialed != 1 || st.ConnsOpen != 1 || st.MessagesOut != 8 || st.MessagesIn != 8 {
		t.Errorf("client stats %+v", st)
	}
	if st := srv.Stats().TCP; st.ConnsAccepted != 1 {
		t.Errorf("server stats %+v", st)
	}
}

// TestSendDialFails: a dial that fails is not Send's error (Send does not
// wait for it) but goes to OnSendError, once per queued message, with the
// destination given to Send.
func TestSendDialFails(t *testing.T) {
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := addrPortOf(nl.Addr())
	nl.Close()
	type failure struct {
		dst  Dest
		data string
		err  error
	}
	failed := make(chan failure, 4)
	l := newLayer(t, Config{DialTimeout: time.Second, OnSendError: func(dst Dest, data []byte, err error) {
		failed <- failure{dst, string(data), err}
	}}, nil)
	dst := Dest{Proto: TCP, Addr: addr}
	id, err := l.Send(dst, []byte("x"))
	switch {
	case err != nil && errors.Is(err, syscall.ECONNREFUSED):
		// The writer dialed and failed before Send queued the message: Send
		// then says so itself (rare; nothing goes to OnSendError).
	case err != nil || id == 0:
		t.Fatalf("Send = %d, %v; want a connection ID and no error", id, err)
	default:
		select {
		case f := <-failed:
			if f.dst.Proto != TCP || f.dst.Addr != addr || f.dst.Conn != id || f.data != "x" || !errors.Is(f.err, syscall.ECONNREFUSED) {
				t.Errorf("OnSendError(%+v, %q, %v)", f.dst, f.data, f.err)
			}
		case <-time.After(testTimeout):
			t.Fatal("OnSendError not called for a refused dial")
		}
	}
	if _, err := l.Send(Dest{Proto: TCP}, []byte("x")); err == nil {
		t.Fatal("Send without address succeeded")
	}
	waitFor(t, "the failed connection to leave the table", func() bool { return !l.ConnAlive(id) })
	if st := l.Stats().TCP; st.HandshakeFails != 1 || st.ConnsOpen != 0 || st.SendErrors > 1 || st.ConnsDialed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSendWholeMessages writes messages of different sizes from many
// goroutines on one connection; each must arrive intact.
func TestSendWholeMessages(t *testing.T) {
	srvRec := newRecorder()
	srv := newLayer(t, Config{}, srvRec)
	ln := listen(t, srv, "tcp:127.0.0.1:0")
	cli := newLayer(t, Config{}, nil)
	const n = 40
	want := make(map[string]bool)
	var wg sync.WaitGroup
	for i := range n {
		body := strings.Repeat(fmt.Sprint(i%10), 100+i*500)
		msg := msgWithBody(body)
		want[msg] = true
		wg.Go(func() {
			if _, err := cli.Send(Dest{Proto: TCP, Addr: ln.Addr()}, []byte(msg)); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	for range n {
		g := srvRec.next(t)
		if !want[g.data] {
			t.Fatalf("garbled message of %d bytes", len(g.data))
		}
		delete(want, g.data)
	}
}

// TestSendDialFromLocal checks that Dest.Local picks the source IP of a
// dialed connection.
func TestSendDialFromLocal(t *testing.T) {
	probe, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 not usable: %v", err)
	}
	probe.Close()
	srv, rec := echoLayer(t, Config{})
	ln := listen(t, srv, "tcp:127.0.0.1:0")
	cli := newLayer(t, Config{}, nil)
	local := netip.MustParseAddrPort("127.0.0.2:5060")
	if _, err := cli.Send(Dest{Proto: TCP, Addr: ln.Addr(), Local: local}, []byte(optionsMsg("TCP", "local"))); err != nil {
		t.Fatal(err)
	}
	if g := rec.next(t); g.pkt.Source.Addr() != local.Addr() {
		t.Fatalf("source %v, want IP %v", g.pkt.Source, local.Addr())
	}
}

// TestConnIDsDifferAcrossRestarts: a Layer's connection IDs start at a
// random point, so the first connection of a new Layer (a restarted
// process) does not get the ID the previous one gave its first connection,
// which a registration stored in the database may still hold.
func TestConnIDsDifferAcrossRestarts(t *testing.T) {
	firstTwo := func() (ConnID, ConnID) {
		rec := newRecorder()
		l := New(Config{}, rec, testLog(t))
		defer l.Close()
		ln := listen(t, l, "tcp:127.0.0.1:0")
		var ids [2]ConnID
		for i := range ids {
			nc := dialStream(t, ln)
			nc.Write([]byte(optionsMsg("TCP", uniq(i))))
			ids[i] = rec.next(t).pkt.Conn
			nc.Close()
		}
		return ids[0], ids[1]
	}
	a1, a2 := firstTwo()
	b1, b2 := firstTwo()
	for _, id := range []ConnID{a1, a2, b1, b2} {
		if id < connIDMin || id >= connIDMax+1<<20 {
			t.Errorf("ID %d outside [2^32, 2^62+2^20)", id)
		}
	}
	if a2 <= a1 || b2 <= b1 {
		t.Errorf("IDs within one Layer not increasing: %d, %d and %d, %d", a1, a2, b1, b2)
	}
	if a1 == b1 || a1 == b2 || a2 == b1 || a2 == b2 {
		t.Errorf("two Layers gave the same IDs: %d, %d and %d, %d", a1, a2, b1, b2)
	}
}
