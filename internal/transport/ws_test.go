package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsURL returns the URL of ln with path.
func wsURL(ln *Listener, path string) string {
	scheme := "ws"
	if ln.Proto() == WSS {
		scheme = "wss"
	}
	return scheme + "://" + ln.Addr().String() + path
}

// wsOptions returns dial options offering "sip" and trusting any server.
func wsOptions(header http.Header, subprotocols ...string) *websocket.DialOptions {
	return &websocket.DialOptions{
		Subprotocols: subprotocols,
		HTTPHeader:   header,
		HTTPClient: &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}},
	}
}

// wsDial opens a SIP WebSocket to ln.
func wsDial(t *testing.T, ln *Listener, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(ln, path), wsOptions(nil, "sip"))
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL(ln, path), err)
	}
	if c.Subprotocol() != "sip" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// wsRead reads one message with the test timeout.
func wsRead(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("ws read: %v", err)
	}
	return typ, string(data)
}

func wsWrite(t *testing.T, c *websocket.Conn, typ websocket.MessageType, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, typ, []byte(msg)); err != nil {
		t.Fatalf("ws write: %v", err)
	}
}

func TestWSRoundTrip(t *testing.T) {
	tests := []struct {
		spec string
		typ  websocket.MessageType
	}{
		{"ws:127.0.0.1:0", websocket.MessageText},
		{"ws:127.0.0.1:0", websocket.MessageBinary},
		{"wss:127.0.0.1:0", websocket.MessageText},
		{"ws:[::1]:0/sip", websocket.MessageText},
		{"wss:[::1]:0/sip", websocket.MessageBinary},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.typ.String(), func(t *testing.T) {
			skipNoIPv6(t, tt.spec)
			cfg, _ := tlsConfig(t)
			l, rec := echoLayer(t, cfg)
			ln := listen(t, l, tt.spec)
			c := wsDial(t, ln, ln.Spec().Path)
			req := optionsMsg(ln.Proto().String(), "ws")
			wsWrite(t, c, tt.typ, req)
			// RFC 7118 §5: replies go out as text frames.
			if typ, reply := wsRead(t, c); typ != websocket.MessageText || !strings.HasPrefix(reply, "SIP/2.0 200 OK\r\n") {
				t.Fatalf("reply %v %q", typ, reply)
			}
			g := rec.next(t)
			if g.data != req || g.pkt.Proto != ln.Proto() || g.pkt.Conn == 0 || g.pkt.Listener != ln ||
				g.pkt.Local != ln.Addr() || g.pkt.Source.Addr() != ln.Addr().Addr() {
				t.Fatalf("got %+v %q", g.pkt, g.data)
			}
			// Later requests can reach the client by its address alone.
			if id, err := l.Send(Dest{Proto: ln.Proto(), Addr: g.pkt.Source}, []byte(optionsMsg("WS", "to-client"))); err != nil || id != g.pkt.Conn {
				t.Fatalf("Send by address = %d, %v", id, err)
			}
			if _, msg := wsRead(t, c); !strings.HasPrefix(msg, "OPTIONS ") {
				t.Fatalf("got %q", msg)
			}
			if st := l.Stats().For(ln.Proto()); st.MessagesIn != 1 || st.ConnsOpen != 1 || st.ConnsAccepted != 1 {
				t.Errorf("stats %+v", st)
			}
			c.Close(websocket.StatusNormalClosure, "")
			waitFor(t, "the connection to close", func() bool { return !l.ConnAlive(g.pkt.Conn) })
		})
	}
}

func TestWSUpgradeRejected(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		path         string
		header       http.Header
		subprotocols []string
		wantStatus   int
	}{
		{"no subprotocol", Config{}, "/sip", nil, nil, http.StatusBadRequest},
		{"other subprotocol", Config{}, "/sip", nil, []string{"chat"}, http.StatusBadRequest},
		{"wrong path", Config{}, "/other", nil, []string{"sip"}, http.StatusNotFound},
		{"origin not allowed", Config{WSAllowedOrigins: []string{"example.com"}}, "/sip", http.Header{"Origin": {"https://evil.example"}}, []string{"sip"}, http.StatusForbidden},
		{"origin allowed", Config{WSAllowedOrigins: []string{"example.com"}}, "/sip", http.Header{"Origin": {"https://example.com"}}, []string{"chat", "SIP"}, http.StatusSwitchingProtocols},
		{"any origin", Config{}, "/sip", http.Header{"Origin": {"https://evil.example"}}, []string{"sip"}, http.StatusSwitchingProtocols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayer(t, tt.cfg, nil)
			ln := listen(t, l, "ws:127.0.0.1:0/sip")
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, wsURL(ln, tt.path), wsOptions(tt.header, tt.subprotocols...))
			if c != nil {
				defer c.CloseNow()
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (err %v)", resp.StatusCode, tt.wantStatus, err)
			}
			if tt.wantStatus != http.StatusSwitchingProtocols {
				waitFor(t, "the failure to be counted", func() bool { return l.Stats().WS.HandshakeFails == 1 })
			}
		})
	}
}

func TestWSPlainHTTP(t *testing.T) {
	l := newLayer(t, Config{}, nil)
	ln := listen(t, l, "ws:127.0.0.1:0")
	resp, err := (&http.Client{Timeout: testTimeout}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d, want 426", resp.StatusCode)
	}
}

func TestWSKeepaliveAndOversize(t *testing.T) {
	l := newLayer(t, Config{MaxMessageSize: 600}, newRecorder())
	ln := listen(t, l, "ws:127.0.0.1:0")
	c := wsDial(t, ln, "/")
	wsWrite(t, c, websocket.MessageText, "\r\n\r\n")
	if _, pong := wsRead(t, c); pong != "\r\n" {
		t.Fatalf("pong %q", pong)
	}
	wsWrite(t, c, websocket.MessageText, msgWithBody(strings.Repeat("o", 700)))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig && !errors.Is(err, net.ErrClosed) {
		t.Logf("read after oversize: %v", err)
	}
	waitFor(t, "the connection to close", func() bool { return l.Stats().WS.ConnsOpen == 0 })
	if st := l.Stats().WS; st.DroppedOversize != 1 || st.KeepalivesIn != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestWSPing(t *testing.T) {
	const ping = 50 * time.Millisecond
	rec := newRecorder()
	l := newLayer(t, Config{WSPingInterval: ping}, rec)
	ln := listen(t, l, "ws:127.0.0.1:0")

	// This client reads, so it answers pings and stays.
	alive := wsDial(t, ln, "/")
	readCtx := alive.CloseRead(context.Background())
	wsWrite(t, alive, websocket.MessageText, optionsMsg("WS", "alive"))
	aliveID := rec.next(t).pkt.Conn

	// This client never reads, so its pongs never come.
	deaf := wsDial(t, ln, "/")
	wsWrite(t, deaf, websocket.MessageText, optionsMsg("WS", "deaf"))
	deafID := rec.next(t).pkt.Conn

	waitFor(t, "the unresponsive client to be dropped", func() bool { return !l.ConnAlive(deafID) })
	time.Sleep(4 * ping)
	if !l.ConnAlive(aliveID) || readCtx.Err() != nil {
		t.Fatal("a client answering pings was dropped")
	}
}

func TestWSIdleTimeout(t *testing.T) {
	rec := newRecorder()
	l := newLayer(t, Config{IdleTimeout: 100 * time.Millisecond, WSPingInterval: -1}, rec)
	ln := listen(t, l, "ws:127.0.0.1:0")
	c := wsDial(t, ln, "/")
	wsWrite(t, c, websocket.MessageText, optionsMsg("WS", "idle"))
	id := rec.next(t).pkt.Conn
	waitFor(t, "the idle connection to close", func() bool { return !l.ConnAlive(id) })
}

func TestSendWSNeedsConnection(t *testing.T) {
	l := newLayer(t, Config{}, nil)
	listen(t, l, "ws:127.0.0.1:0")
	for _, p := range []Proto{WS, WSS} {
		if _, err := l.Send(Dest{Proto: p, Addr: netip.MustParseAddrPort("127.0.0.1:5060")}, []byte("x")); !errors.Is(err, ErrNoConnection) {
			t.Errorf("%v: %v, want ErrNoConnection", p, err)
		}
	}
}

func TestPerIPLimitWS(t *testing.T) {
	l := newLayer(t, Config{MaxConnsPerIP: 1}, nil)
	ln := listen(t, l, "ws:127.0.0.1:0")
	wsDial(t, ln, "/")
	waitFor(t, "the first connection", func() bool { return l.Stats().WS.ConnsOpen == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	opts := wsOptions(nil, "sip")
	opts.HTTPClient.Transport.(*http.Transport).DisableKeepAlives = true
	if c, _, err := websocket.Dial(ctx, wsURL(ln, "/"), opts); err == nil {
		c.CloseNow()
		t.Fatal("second connection from the same IP accepted")
	}
	if st := l.Stats().WS; st.ConnsRefused != 1 || st.ConnsOpen != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestWSSlowUpgradeDoesNotBlock leaves a raw TCP connection to a WSS
// listener silent while another client upgrades and talks.
func TestWSSlowUpgradeDoesNotBlock(t *testing.T) {
	cfg, _ := tlsConfig(t)
	cfg.HandshakeTimeout = 300 * time.Millisecond
	l, rec := echoLayer(t, cfg)
	ln := listen(t, l, "wss:127.0.0.1:0")
	silent, err := net.DialTimeout("tcp", ln.Addr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := wsDial(t, ln, "/")
	wsWrite(t, c, websocket.MessageText, optionsMsg("WSS", "fast"))
	if _, reply := wsRead(t, c); !strings.HasPrefix(reply, "SIP/2.0 200") {
		t.Fatalf("reply %q", reply)
	}
	rec.next(t)
	expectClosed(t, silent)
	waitFor(t, "the failure to be counted", func() bool { return l.Stats().WSS.HandshakeFails >= 1 })
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{[]string{"sip"}, true},
		{[]string{"SIP"}, true},
		{[]string{"chat, sip"}, true},
		{[]string{"chat", " sip "}, true},
		{[]string{"sips"}, false},
		{[]string{"chat,sip2"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		h := http.Header{"Sec-Websocket-Protocol": tt.values}
		if got := hasToken(h, "Sec-WebSocket-Protocol", "sip"); got != tt.want {
			t.Errorf("hasToken(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}
