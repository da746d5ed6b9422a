//go:build linux

package transport

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlowStreamPeerDoesNotStallUDP: client A's UDP requests make the
// handler send to a stream peer that never reads, or whose dial never
// completes; client B's requests, read by the same UDP goroutine, must still
// be answered within 200 ms while those sends are stuck. The slow
// connection's queue fills, and what does not fit is dropped and counted.
func TestSlowStreamPeerDoesNotStallUDP(t *testing.T) {
	tests := []struct {
		name string
		peer func(t *testing.T) netip.AddrPort
	}{
		{"peer never reads", nonReadingPeer},
		{"dial never completes", blackhole},
	}
	big := []byte(msgWithBody(strings.Repeat("x", 60000)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slow := Dest{Proto: TCP, Addr: tt.peer(t)}
			var l *Layer
			l = newLayer(t, Config{SendQueueLen: 4, DialTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second},
				HandlerFunc(func(p *Packet) {
					if strings.Contains(string(p.Data), "branch=z9hG4bKslow") {
						for range 32 { // 2 MB a request: the socket buffers fill within a few
							if _, err := l.Send(slow, big); err != nil && !errors.Is(err, ErrQueueFull) {
								t.Errorf("Send to the slow peer: %v", err)
							}
						}
					}
					l.Send(Dest{Proto: UDP, Addr: p.Source, Local: p.Local}, okFor(p.Data))
				}))
			ln := listen(t, l, "udp:127.0.0.1:0")
			a, b := connectedUDP(t, ln.Addr()), connectedUDP(t, ln.Addr())
			var worst time.Duration
			for i := range 8 {
				a.Write([]byte(optionsMsg("UDP", "slow"+uniq(i))))
				start := time.Now()
				b.Write([]byte(optionsMsg("UDP", "fast"+uniq(i))))
				readOK(t, b)
				worst = max(worst, time.Since(start))
				readOK(t, a)
			}
			if worst > 200*time.Millisecond {
				t.Errorf("slowest answer to B took %v while a stream send was stuck, want < 200ms", worst)
			}
			if st := l.Stats().TCP; st.SendQueueFull == 0 {
				t.Errorf("the slow connection's queue never filled (stats %+v): the test did not stall it", st)
			}
			t.Logf("slowest answer to B: %v; TCP stats %+v", worst, l.Stats().TCP)
		})
	}
}

// connectedUDP returns a UDP socket connected to to.
func connectedUDP(t *testing.T, to netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readOK reads one datagram from c and fails unless it is a 200.
func readOK(t *testing.T, c *net.UDPConn) {
	t.Helper()
	if m := readDatagram(t, c); !strings.HasPrefix(m, "SIP/2.0 200") {
		t.Fatalf("reply %q", m)
	}
}

// nonReadingPeer returns the address of a TCP listener that accepts
// connections and never reads from them, with a small receive buffer.
func nonReadingPeer(t *testing.T) netip.AddrPort {
	t.Helper()
	nl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := nl.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetReadBuffer(4096)
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { nl.Close(); <-done })
	return addrPortOf(nl.Addr())
}

// blackhole returns a loopback address whose TCP connects never complete:
// a socket listening with a backlog of 0 whose accept queue is filled and
// never accepted from, so that the kernel drops further SYNs.
func blackhole(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	for range 4 {
		c, err := net.DialTimeout("tcp4", addr.String(), 300*time.Millisecond)
		if err != nil {
			return addr // the accept queue is full: connects now hang
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill the accept queue of a backlog-0 listener")
	return addr
}
