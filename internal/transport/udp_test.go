package transport

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// udpClient opens a client socket on host.
func udpClient(t *testing.T, host string) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uc.Close() })
	return uc
}

// readDatagram reads one datagram with the test timeout.
func readDatagram(t *testing.T, uc *net.UDPConn) string {
	t.Helper()
	buf := make([]byte, 65536)
	uc.SetReadDeadline(time.Now().Add(testTimeout))
	n, err := uc.Read(buf)
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return string(buf[:n])
}

func TestUDPRoundTrip(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			skipNoIPv6(t, host)
			l, rec := echoLayer(t, Config{})
			ln := listen(t, l, "udp:"+hostOf(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
			client := udpClient(t, host)
			req := optionsMsg("UDP", "udp1")
			if _, err := client.WriteToUDPAddrPort([]byte(req), ln.Addr()); err != nil {
				t.Fatal(err)
			}
			g := rec.next(t)
			want := Packet{Source: addrPortOf(client.LocalAddr()), Local: ln.Addr(), Proto: UDP, Listener: ln}
			if g.data != req || !samePacket(g.pkt, want) {
				t.Fatalf("got %+v %q, want %+v", g.pkt, g.data, want)
			}
			if reply := readDatagram(t, client); !strings.HasPrefix(reply, "SIP/2.0 200 OK\r\n") {
				t.Fatalf("reply %q", reply)
			}
			waitFor(t, "the reply to be counted", func() bool { return l.Stats().UDP.MessagesOut == 1 })
			if st := l.Stats().UDP; st.MessagesIn != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestUDPDualStack checks that an IPv4 client of a dual-stack socket is
// seen unmapped and answered through it.
func TestUDPDualStack(t *testing.T) {
	skipNoIPv6(t, "::1")
	l, rec := echoLayer(t, Config{})
	ln := listen(t, l, "udp::0")
	if !ln.Addr().Addr().Is6() {
		t.Skipf("empty host bound %v, not dual-stack", ln.Addr())
	}
	client := udpClient(t, "127.0.0.1")
	client.WriteToUDPAddrPort([]byte(optionsMsg("UDP", "dual")), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.Addr().Port()))
	if g := rec.next(t); g.pkt.Source != addrPortOf(client.LocalAddr()) {
		t.Fatalf("source %v, want %v", g.pkt.Source, client.LocalAddr())
	}
	if reply := readDatagram(t, client); !strings.HasPrefix(reply, "SIP/2.0 200 OK") {
		t.Fatalf("reply %q", reply)
	}
}

func TestUDPDrops(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		count func(ProtoStats) uint64
	}{
		{"ping", "\r\n\r\n", func(s ProtoStats) uint64 { return s.KeepalivesIn }},
		{"pong", "\r\n", func(s ProtoStats) uint64 { return s.KeepalivesIn }},
		{"empty", "", func(s ProtoStats) uint64 { return s.KeepalivesIn }},
		{"oversize", msgWithBody(strings.Repeat("x", 500)), func(s ProtoStats) uint64 { return s.DroppedOversize }},
		{"stun", "\x00\x01\x00\x00\x21\x12\xa4\x42", func(s ProtoStats) uint64 { return s.DroppedGarbage }},
		{"digits", "123 garbage", func(s ProtoStats) uint64 { return s.DroppedGarbage }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			l := newLayer(t, Config{MaxMessageSize: 400}, rec)
			ln := listen(t, l, "udp:127.0.0.1:0")
			client := udpClient(t, "127.0.0.1")
			client.WriteToUDPAddrPort([]byte(tt.data), ln.Addr())
			// A good message sent afterwards is delivered, and is the only one.
			good := optionsMsg("UDP", "after")
			client.WriteToUDPAddrPort([]byte(good), ln.Addr())
			if g := rec.next(t); g.data != good {
				t.Fatalf("delivered %q", g.data)
			}
			rec.none(t, 20*time.Millisecond)
			if n := tt.count(l.Stats().UDP); n != 1 {
				t.Fatalf("counter = %d, want 1; stats %+v", n, l.Stats().UDP)
			}
		})
	}
}

func TestUDPListenerChoice(t *testing.T) {
	v4 := &Listener{udp: &net.UDPConn{}, addr: netip.MustParseAddrPort("127.0.0.1:5060")}
	v4b := &Listener{udp: &net.UDPConn{}, addr: netip.MustParseAddrPort("127.0.0.2:5060")}
	v6 := &Listener{udp: &net.UDPConn{}, addr: netip.MustParseAddrPort("[::1]:5060")}
	dual := &Listener{udp: &net.UDPConn{}, addr: netip.MustParseAddrPort("[::]:5060")}
	v6only := &Listener{udp: &net.UDPConn{}, addr: netip.MustParseAddrPort("[::]:5060"), spec: Spec{Host: "::"}}
	tcp := &Listener{addr: netip.MustParseAddrPort("127.0.0.1:5060")}
	tests := []struct {
		name  string
		lns   []*Listener
		dst   string
		local string
		want  *Listener
	}{
		{"same family", []*Listener{v6, v4}, "10.0.0.1", "", v4},
		{"v6", []*Listener{v4, v6}, "2001:db8::1", "", v6},
		{"first of family", []*Listener{v4, v4b}, "10.0.0.1", "", v4},
		{"local wins", []*Listener{v4, v4b}, "10.0.0.1", "127.0.0.2:5060", v4b},
		{"local IP wins", []*Listener{v4, v4b}, "10.0.0.1", "127.0.0.2:9", v4b},
		{"dual stack for v4", []*Listener{v6, dual}, "10.0.0.1", "", dual},
		{"same family before dual", []*Listener{dual, v4}, "10.0.0.1", "", v4},
		{"v6-only is not dual stack", []*Listener{v6only}, "10.0.0.1", "", nil},
		{"no v6 listener", []*Listener{v4, tcp}, "2001:db8::1", "", nil},
		{"tcp is not udp", []*Listener{tcp}, "127.0.0.1", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(Config{}, nil, nil)
			defer l.Close()
			l.listeners = tt.lns
			var local netip.AddrPort
			if tt.local != "" {
				local = netip.MustParseAddrPort(tt.local)
			}
			if got := l.udpListenerFor(netip.MustParseAddr(tt.dst), local); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSendUDPErrors(t *testing.T) {
	l := newLayer(t, Config{}, nil)
	listen(t, l, "udp:127.0.0.1:0")
	if _, err := l.Send(Dest{Proto: UDP, Addr: netip.MustParseAddrPort("[::1]:5060")}, []byte("x")); !errors.Is(err, ErrNoListener) {
		t.Errorf("v6 destination without v6 listener: %v", err)
	}
	if _, err := l.Send(Dest{Proto: UDP}, []byte("x")); err == nil {
		t.Error("no address: no error")
	}
	if _, err := l.Send(Dest{}, []byte("x")); err == nil {
		t.Error("no protocol: no error")
	}
	if _, err := l.Send(Dest{Conn: 42}, []byte("x")); !errors.Is(err, ErrNoConnection) {
		t.Errorf("unknown conn: %v", err)
	}
}

// TestSendStaleConnFallsBackToUDP checks that a Dest whose connection is
// gone is sent by its protocol and address.
func TestSendStaleConnFallsBackToUDP(t *testing.T) {
	rec := newRecorder()
	srv := newLayer(t, Config{}, rec)
	ln := listen(t, srv, "udp:127.0.0.1:0")
	cli := newLayer(t, Config{}, nil)
	listen(t, cli, "udp:127.0.0.1:0")
	id, err := cli.Send(Dest{Proto: UDP, Addr: ln.Addr(), Conn: 77}, []byte(optionsMsg("UDP", "stale")))
	if err != nil || id != 0 {
		t.Fatalf("Send = %d, %v", id, err)
	}
	rec.next(t)
}

// udpCounter is a Handler that signals every packet on a channel.
type udpCounter struct{ ch chan struct{} }

func (c *udpCounter) HandlePacket(*Packet) { c.ch <- struct{}{} }

// udpPingPong sends one datagram and waits for the handler to see it.
func udpPingPong(client *net.UDPConn, to netip.AddrPort, msg []byte, h *udpCounter) {
	client.WriteToUDPAddrPort(msg, to)
	<-h.ch
}

// TestUDPReadPathAllocs checks the receive path does not allocate per
// datagram (the client side does not allocate either).
func TestUDPReadPathAllocs(t *testing.T) {
	h := &udpCounter{ch: make(chan struct{})}
	l := newLayer(t, Config{}, h)
	ln := listen(t, l, "udp:127.0.0.1:0")
	client := udpClient(t, "127.0.0.1")
	msg := []byte(optionsMsg("UDP", "alloc"))
	udpPingPong(client, ln.Addr(), msg, h) // warm up
	allocs := testing.AllocsPerRun(200, func() { udpPingPong(client, ln.Addr(), msg, h) })
	if allocs > 0 {
		t.Fatalf("%v allocations per datagram", allocs)
	}
}

func BenchmarkUDPReadPath(b *testing.B) {
	h := &udpCounter{ch: make(chan struct{})}
	l := New(Config{}, h, nil)
	defer l.Close()
	ln, err := l.Listen("udp:127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	msg := []byte(optionsMsg("UDP", "bench"))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		udpPingPong(client, ln.Addr(), msg, h)
	}
}
