package transport

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// tapped is one call of Config.Tap.
type tapped struct {
	in            bool
	proto         Proto
	local, remote netip.AddrPort
	data          string
}

// tapLog collects Tap calls.
type tapLog struct {
	mu  sync.Mutex
	got []tapped
}

func (l *tapLog) tap(in bool, p Proto, local, remote netip.AddrPort, data []byte) {
	l.mu.Lock()
	l.got = append(l.got, tapped{in, p, local, remote, string(data)})
	l.mu.Unlock()
}

func (l *tapLog) all() []tapped {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tapped(nil), l.got...)
}

// TestTap: every message received (after framing) and sent is shown to the
// tap with its direction, transport and both addresses; keepalives and
// garbage are not.
func TestTap(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			var log tapLog
			l, rec := echoLayer(t, Config{Tap: log.tap})
			ln := listen(t, l, proto+":127.0.0.1:0")
			req := optionsMsg(strings.ToUpper(proto), "tap1")
			client, read := tapClient(t, proto, ln.Addr())
			client([]byte("\r\n\r\n")) // keepalive: not a message
			if proto == "tcp" {
				client([]byte(req + req[:20])) // one message and the start of another
			} else {
				client([]byte(req))
			}
			rec.next(t)
			if !strings.HasPrefix(read(), "SIP/2.0 200 OK") {
				t.Fatal("no 200")
			}
			waitFor(t, "two tapped messages", func() bool { return len(log.all()) == 2 })
			got := log.all()
			in, out := got[0], got[1]
			if !in.in || in.data != req || in.proto.String() != strings.ToUpper(proto) || in.local.Port() != ln.Addr().Port() {
				t.Errorf("received message tapped as %+v", in)
			}
			if out.in || !strings.HasPrefix(out.data, "SIP/2.0 200 OK") || out.remote != in.remote || out.local.Port() != ln.Addr().Port() {
				t.Errorf("sent message tapped as %+v (received from %v)", out, in.remote)
			}
		})
	}
}

// tapClient opens a client socket to addr: send writes, read returns the next message.
func tapClient(t *testing.T, proto string, addr netip.AddrPort) (send func([]byte), read func() string) {
	t.Helper()
	nc, err := net.Dial(proto, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	br := bufio.NewReader(nc)
	send = func(b []byte) {
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	read = func() string {
		nc.SetReadDeadline(time.Now().Add(testTimeout))
		if proto == "tcp" {
			for {
				if m := readSIP(t, br); m != "\r\n" { // skip the pong
					return m
				}
			}
		}
		buf := make([]byte, 65536)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	return send, read
}
