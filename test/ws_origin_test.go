package test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parley-sip/parley/internal/config"
)

// TestWebSocketAllowedOrigins: with websocket.allowed_origins set, a browser
// page from another origin cannot open a SIP WebSocket (403 at the
// handshake, RFC 6455 §4.2.2 lets a server refuse an Origin), while an
// allowed origin, a page from the WebSocket's own host and a client without
// Origin (a SIP phone) register and talk SIP as usual. Without the key any
// origin is allowed.
func TestWebSocketAllowedOrigins(t *testing.T) {
	listen := []string{"ws:127.0.0.1:0/sip"}
	limited := startServer(t, serverOpts{listen: listen, edit: func(c *config.Config) {
		c.WebSocket.AllowedOrigins = []string{"*.example.com", "https://phone.example.net:8443"}
	}})
	open := startServer(t, serverOpts{listen: listen})
	for _, tc := range []struct {
		name   string
		s      *server
		origin string // "" sends none; "self" sends the WebSocket's own host
		ok     bool
	}{
		{"pattern", limited, "https://app.example.com", true},
		{"scheme_and_port", limited, "https://phone.example.net:8443", true},
		{"same_host", limited, "self", true},
		{"no_origin", limited, "", true},
		{"other_site", limited, "https://evil.example", false},
		{"wrong_scheme", limited, "http://phone.example.net:8443", false},
		{"suffix_is_not_a_subdomain", limited, "https://notexample.com", false},
		{"default_allows_any", open, "https://evil.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			origin := tc.origin
			if origin == "self" {
				origin = "http://" + tc.s.addr(t, "ws").String()
			}
			wsOptions(t, tc.s, origin, tc.ok)
		})
	}
}

// wsOptions opens a SIP WebSocket to s with Origin (none when empty); when
// ok it must open and answer an OPTIONS with 200, else the handshake must get 403.
func wsOptions(t *testing.T, s *server, origin string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ws, res, err := websocket.Dial(ctx, "ws://"+s.addr(t, "ws").String()+s.paths["ws"], &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: []string{"sip"},
	})
	if !ok {
		if err == nil {
			ws.CloseNow()
			t.Fatalf("Origin %q: the handshake succeeded, want 403", origin)
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("Origin %q: %v (response %v), want 403", origin, err, res)
		}
		return
	}
	if err != nil {
		t.Fatalf("Origin %q: %v", origin, err)
	}
	defer ws.CloseNow()
	msg := "OPTIONS sip:example.test SIP/2.0\r\nVia: SIP/2.0/WS ws.invalid;branch=z9hG4bK" + randHex(8) + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@example.test>;tag=" + randHex(4) + "\r\nTo: <sip:example.test>\r\n" +
		"Call-ID: " + randHex(8) + "@ws.invalid\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	_, reply, err := ws.Read(ctx)
	if err != nil || !strings.HasPrefix(string(reply), "SIP/2.0 200 ") {
		t.Fatalf("Origin %q: OPTIONS answered %q, %v; want 200", origin, reply, err)
	}
}
