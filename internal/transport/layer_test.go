package transport

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		spec string
		want string
	}{
		{"bogus", "PROTO:HOST:PORT"},
		{"udp:300.1.1.1:0", "300.1.1.1"},
		{"tcp:" + busy.Addr().String(), "address already in use"},
		{"ws:" + busy.Addr().String() + "/x", "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			l := newLayer(t, Config{}, nil)
			if _, err := l.Listen(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Listen(%q) = %v, want an error mentioning %q", tt.spec, err, tt.want)
			}
		})
	}
}

func TestListeners(t *testing.T) {
	cfg, _ := tlsConfig(t)
	l := newLayer(t, cfg, nil)
	specs := []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0", "ws:127.0.0.1:0/ws", "wss:127.0.0.1:0"}
	for _, s := range specs {
		listen(t, l, s)
	}
	lns := l.Listeners()
	if len(lns) != len(specs) {
		t.Fatalf("%d listeners", len(lns))
	}
	for i, ln := range lns {
		want, _ := ParseListenSpec(specs[i])
		if ln.Spec() != want || ln.Proto() != want.Proto {
			t.Errorf("listener %d: spec %+v, want %+v", i, ln.Spec(), want)
		}
		if ln.Addr().Port() == 0 || ln.Addr().Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("listener %d bound to %v", i, ln.Addr())
		}
		if !strings.HasPrefix(ln.String(), strings.ToLower(want.Proto.String())+":127.0.0.1:") {
			t.Errorf("String() = %q", ln.String())
		}
	}
}

func TestCloseIsFinal(t *testing.T) {
	l := New(Config{}, nil, nil)
	ln, err := l.Listen("tcp:127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Listen("udp:127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("Listen after Close: %v", err)
	}
	if _, err := l.Send(Dest{Proto: TCP, Addr: ln.Addr()}, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if len(l.Listeners()) != 0 {
		t.Error("listeners left after Close")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepting after Close")
	}
}

// TestCloseClosesEverything opens one connection of each kind and checks
// that Close ends them all, reports them, and leaves no goroutines.
func TestCloseClosesEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg, _ := tlsConfig(t)
	var mu sync.Mutex
	closed := map[Proto]int{}
	cfg.OnConnClose = func(_ ConnID, p Proto, _ netip.AddrPort) {
		mu.Lock()
		closed[p]++
		mu.Unlock()
	}
	rec := newRecorder()
	l := New(cfg, rec, nil)
	var raw []net.Conn
	for _, spec := range []string{"tcp:127.0.0.1:0", "tls:127.0.0.1:0"} {
		ln := listen(t, l, spec)
		nc := dialStream(t, ln)
		nc.Write([]byte(optionsMsg("TCP", spec)))
		rec.next(t)
		raw = append(raw, nc)
		if ln.Proto() == TCP {
			continue
		}
		// A connection stuck before its handshake is closed too.
		silent, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
	}
	var wss []*websocket.Conn
	for _, spec := range []string{"ws:127.0.0.1:0", "wss:127.0.0.1:0"} {
		ln := listen(t, l, spec)
		c := wsDial(t, ln, "/")
		wsWrite(t, c, websocket.MessageText, optionsMsg("WS", spec))
		rec.next(t)
		wss = append(wss, c)
		silent, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
	}
	listen(t, l, "udp:127.0.0.1:0")

	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
	for _, nc := range raw {
		expectClosed(t, nc)
	}
	for _, c := range wss {
		c.CloseNow()
	}
	mu.Lock()
	for _, p := range []Proto{TCP, TLS, WS, WSS} {
		if closed[p] != 1 {
			t.Errorf("OnConnClose for %v called %d times", p, closed[p])
		}
	}
	mu.Unlock()
	if st := l.Stats(); st.TCP.ConnsOpen+st.TLS.ConnsOpen+st.WS.ConnsOpen+st.WSS.ConnsOpen != 0 {
		t.Errorf("connections still counted open: %+v", st)
	}
	// Client-side goroutines (HTTP transports) may take a moment to go.
	waitFor(t, "goroutines to end", func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= before+2
	})
}

func TestHandlerPanicRecovered(t *testing.T) {
	rec := newRecorder()
	first := true
	l := newLayer(t, Config{}, HandlerFunc(func(p *Packet) {
		if first {
			first = false
			panic("boom")
		}
		rec.HandlePacket(p)
	}))
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	nc.Write([]byte(msgWithBody("1") + msgWithBody("2")))
	if g := rec.next(t); g.data != msgWithBody("2") {
		t.Fatalf("got %q", g.data)
	}
}

// TestHandlerMayModifyData checks that in-place edits and appends by the
// handler do not disturb the next message.
func TestHandlerMayModifyData(t *testing.T) {
	rec := newRecorder()
	l := newLayer(t, Config{}, HandlerFunc(func(p *Packet) {
		rec.HandlePacket(p)
		for i := range p.Data {
			p.Data[i] = 'X'
		}
		_ = append(p.Data, "trailing junk"...)
		p.Source = netip.AddrPort{}
	}))
	ln := listen(t, l, "tcp:127.0.0.1:0")
	nc := dialStream(t, ln)
	m1, m2 := msgWithBody("first"), msgWithBody("second")
	nc.Write([]byte(m1 + m2))
	for _, want := range []string{m1, m2} {
		if g := rec.next(t); g.data != want || !g.pkt.Source.IsValid() {
			t.Fatalf("got %q from %v, want %q", g.data, g.pkt.Source, want)
		}
	}
}
