package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// sipSubprotocol is the WebSocket subprotocol of RFC 7118 §4.
const sipSubprotocol = "sip"

// listenWS binds a WS or WSS listener and returns its HTTP serve loop.
// The per-IP limit sits under TLS and HTTP; ReadHeaderTimeout bounds both
// the TLS handshake and the upgrade request.
func (l *Layer) listenWS(ln *Listener) (func(), error) {
	var cfg *tls.Config
	if ln.spec.Proto == WSS {
		var err error
		if cfg, err = l.serverTLS(WSS); err != nil {
			return nil, err
		}
	}
	tl, err := net.Listen(network("tcp", ln.spec.Host), ln.spec.hostPort())
	if err != nil {
		return nil, err
	}
	ln.ln = tl
	ln.addr = addrPortOf(tl.Addr())
	inner := l.limit(tl, ln.spec.Proto)
	if cfg != nil {
		inner = tls.NewListener(inner, cfg)
	}
	ln.srv = l.httpServer(ln)
	return func() { ln.srv.Serve(inner) }, nil
}

// httpServer returns the upgrade server of ln. A connection that closes
// without being upgraded (failed TLS, no upgrade, rejected upgrade,
// timeout) counts as a handshake failure.
func (l *Layer) httpServer(ln *Listener) *http.Server {
	p := ln.spec.Proto
	return &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.serveUpgrade(ln, w, r) }),
		ReadHeaderTimeout: l.cfg.HandshakeTimeout,
		IdleTimeout:       l.cfg.HandshakeTimeout,
		MaxHeaderBytes:    l.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return l.ctx },
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				l.stats.of(p).handshake.Add(1)
			}
		},
	}
}

// serveUpgrade upgrades one HTTP request to a SIP WebSocket and then serves
// it on this (net/http's) goroutine, which Close waits for.
func (l *Layer) serveUpgrade(ln *Listener, w http.ResponseWriter, r *http.Request) {
	if !l.spawnedHere() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer l.wg.Done()
	// Whatever fails below, the connection is not kept for another try.
	w.Header().Set("Connection", "close")
	if rejectUpgrade(ln.spec.Path, w, r) {
		return
	}
	remote := addrPortFromString(r.RemoteAddr)
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	c := l.newConn(ln.spec.Proto, ln, remote, addrPortOf(local))
	ws, err := websocket.Accept(w, r, l.acceptOptions(c))
	if err != nil {
		l.log.Debug("transport: WebSocket upgrade failed", "remote", remote, "err", err)
		return
	}
	ws.SetReadLimit(int64(l.cfg.MaxMessageSize))
	c.ws = ws
	if !l.register(c, func() { l.wsKeepalive(c) }) {
		ws.CloseNow()
		return
	}
	l.serveWS(c)
}

// rejectUpgrade answers and reports true if r is not a SIP WebSocket
// upgrade for path ("/" accepts any path).
func rejectUpgrade(path string, w http.ResponseWriter, r *http.Request) bool {
	switch {
	case path != "/" && r.URL.Path != path:
		http.NotFound(w, r)
	case !hasToken(r.Header, "Upgrade", "websocket"):
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "WebSocket upgrade required", http.StatusUpgradeRequired)
	case !hasToken(r.Header, "Sec-WebSocket-Protocol", sipSubprotocol):
		// RFC 7118 §4: the "sip" subprotocol is mandatory.
		http.Error(w, `WebSocket subprotocol "sip" required`, http.StatusBadRequest)
	default:
		return false
	}
	return true
}

// spawnedHere counts the calling goroutine in l.wg, unless the Layer is
// closed. The caller must call l.wg.Done when it reports true.
func (l *Layer) spawnedHere() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	return true
}

// acceptOptions returns the upgrade options for c. A ping from the client
// counts as traffic; the server's own pings do not.
func (l *Layer) acceptOptions(c *conn) *websocket.AcceptOptions {
	o := &websocket.AcceptOptions{
		Subprotocols: []string{sipSubprotocol},
		OnPingReceived: func(context.Context, []byte) bool {
			c.touch()
			return true
		},
	}
	if len(l.cfg.WSAllowedOrigins) > 0 {
		o.OriginPatterns = l.cfg.WSAllowedOrigins
	} else {
		o.InsecureSkipVerify = true
	}
	return o
}

// hasToken reports whether the comma-separated header key lists token,
// ignoring case.
func hasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// serveWS is the read loop of a WebSocket connection: each WebSocket
// message, text or binary, is one SIP message (RFC 7118 §5).
func (l *Layer) serveWS(c *conn) {
	defer l.finish(c)
	st := l.stats.of(c.proto)
	buf := make([]byte, 0, min(framerInitialSize, l.cfg.MaxMessageSize))
	pkt := new(Packet)
	for {
		var err error
		if buf, err = c.readWS(buf[:0]); err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				st.oversize.Add(1)
				l.log.Info("transport: WebSocket message too big", "conn", c.id, "remote", c.remote)
			}
			return
		}
		c.touch()
		if isKeepalive(buf) {
			l.wsKeepaliveMessage(c, buf)
			continue
		}
		st.in.Add(1)
		*pkt = c.packet()
		pkt.Data = buf[:len(buf):len(buf)]
		l.deliver(pkt)
	}
}

// wsKeepaliveMessage answers a CRLFCRLF ping sent inside a WebSocket
// message, as some SIP-over-WebSocket clients do (RFC 5626 §4.4.1 style).
func (l *Layer) wsKeepaliveMessage(c *conn, data []byte) {
	l.stats.of(c.proto).keepalives.Add(1)
	if string(data) == crlfcrlf {
		c.pong()
	}
}

// readWS reads the next message into buf, reusing its storage.
func (c *conn) readWS(buf []byte) ([]byte, error) {
	_, r, err := c.ws.Reader(c.layer.ctx)
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// wsKeepalive pings c when it has been quiet for WSPingInterval, closes it
// when a ping is not answered within the same interval, and closes it when
// it has carried no traffic for IdleTimeout.
func (l *Layer) wsKeepalive(c *conn) {
	ping, idle := l.cfg.WSPingInterval, l.cfg.IdleTimeout
	if ping <= 0 && idle <= 0 {
		return
	}
	var lastPing time.Time
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		t.Reset(wsNextCheck(c.lastActive(), lastPing, ping, idle))
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if c.idleExpired() {
			l.log.Debug("transport: idle timeout", "conn", c.id, "proto", c.proto, "remote", c.remote)
			c.close()
			return
		}
		if ping > 0 && time.Since(latest(c.lastActive(), lastPing)) >= ping {
			if !l.wsPing(c, ping) {
				return
			}
			lastPing = time.Now()
		}
	}
}

// wsNextCheck returns how long to wait before the next idle or ping check.
func wsNextCheck(last, lastPing time.Time, ping, idle time.Duration) time.Duration {
	next := time.Duration(1<<63 - 1)
	if idle > 0 {
		next = time.Until(last.Add(idle))
	}
	if ping > 0 {
		next = min(next, time.Until(latest(last, lastPing).Add(ping)))
	}
	return max(next, time.Millisecond)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// wsPing pings c and closes it if no pong comes within timeout.
func (l *Layer) wsPing(c *conn, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil {
		l.log.Debug("transport: WebSocket ping failed", "conn", c.id, "remote", c.remote, "err", err)
		c.close()
		return false
	}
	return true
}

// addrPortFromString parses "ip:port" as net/http gives it in RemoteAddr.
func addrPortFromString(s string) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(s)
	return unmap(ap)
}
