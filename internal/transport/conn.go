package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// connKey finds an open connection by transport and remote address.
type connKey struct {
	proto Proto
	addr  netip.AddrPort
}

// conn is one registered TCP, TLS, WS or WSS connection. Its read goroutine
// owns the receive side and its writer goroutine (writeLoop) the send side:
// Send only queues a copy of the message on sendq, so no caller ever waits
// for a dial, a handshake or a peer that does not read.
type conn struct {
	layer  *Layer
	id     ConnID
	proto  Proto
	remote netip.AddrPort
	ln     *Listener // nil for dialed connections
	dial   *Dest     // for a connection this Layer dials: the writer dials it first

	// mu guards the fields below once c is registered. An accepted
	// connection has them set before; a dialed one gets them from its writer
	// goroutine when the dial succeeds, before its read goroutine starts.
	mu         sync.Mutex
	nc         net.Conn        // TCP and TLS
	ws         *websocket.Conn // WS and WSS
	local      netip.AddrPort
	opened     bool               // counted in ConnsOpen
	cancelDial context.CancelFunc // aborts the dial in flight, if any
	err        error              // why the writer closed c (dial or write error), if it did

	sendq  chan outMsg  // messages waiting for the writer goroutine
	last   atomic.Int64 // time of the last traffic, as nanoseconds since layer.epoch
	closed atomic.Bool
	done   chan struct{} // closed by close
}

// newConn returns an unregistered conn with a fresh ID.
func (l *Layer) newConn(p Proto, ln *Listener, remote, local netip.AddrPort) *conn {
	c := &conn{
		layer: l, id: ConnID(l.ids.Add(1)), proto: p, ln: ln,
		remote: unmap(remote), local: unmap(local),
		sendq: make(chan outMsg, l.cfg.SendQueueLen),
		done:  make(chan struct{}),
	}
	c.touch()
	return c
}

// packet returns the Packet template for messages on c.
func (c *conn) packet() Packet {
	return Packet{Source: c.remote, Local: c.local, Proto: c.proto, Conn: c.id, Listener: c.ln}
}

// touch records traffic now.
func (c *conn) touch() { c.last.Store(int64(time.Since(c.layer.epoch))) }

// lastActive returns when c last carried traffic.
func (c *conn) lastActive() time.Time { return c.layer.epoch.Add(time.Duration(c.last.Load())) }

// idleExpired reports whether c has been quiet for IdleTimeout.
func (c *conn) idleExpired() bool {
	d := c.layer.cfg.IdleTimeout
	return d > 0 && time.Since(c.lastActive()) >= d
}

// register puts an accepted (handshaken or upgraded) connection in the
// table and starts its writer and, if serve is not nil, serve, on tracked
// goroutines. It reports false if the Layer is closed.
func (l *Layer) register(c *conn, serve func()) bool {
	c.opened = true // c is not shared yet
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.insertLocked(c)
	if serve != nil {
		l.goLocked(serve)
	}
	l.mu.Unlock()
	l.countOpen(c, false)
	return true
}

// insertLocked adds c to the table and starts its writer. l.mu must be held
// and the Layer open.
func (l *Layer) insertLocked(c *conn) {
	l.conns[c.id] = c
	l.byAddr[connKey{c.proto, c.remote}] = c
	l.goLocked(func() { l.writeLoop(c) })
}

// countOpen counts a connection that is now usable.
func (l *Layer) countOpen(c *conn, dialed bool) {
	st := l.stats.of(c.proto)
	st.open.Add(1)
	if dialed {
		st.dialed.Add(1)
	} else {
		st.accepted.Add(1)
	}
	l.log.Debug("transport: connection open", "conn", c.id, "proto", c.proto, "remote", c.remote, "dialed", dialed)
}

// unregister removes c from the table; opened says whether it was counted open.
func (l *Layer) unregister(c *conn, opened bool) {
	l.mu.Lock()
	delete(l.conns, c.id)
	if k := (connKey{c.proto, c.remote}); l.byAddr[k] == c {
		delete(l.byAddr, k)
	}
	l.mu.Unlock()
	if opened {
		l.stats.of(c.proto).open.Add(-1)
	}
}

// connByID returns the open connection id, or nil.
func (l *Layer) connByID(id ConnID) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[id]
}

// ConnAlive reports whether connection id is still open.
func (l *Layer) ConnAlive(id ConnID) bool {
	c := l.connByID(id)
	return c != nil && !c.closed.Load()
}

// CloseConn closes connection id if it is open. OnConnClose is called once
// its read goroutine has finished.
func (l *Layer) CloseConn(id ConnID) {
	if c := l.connByID(id); c != nil {
		c.close()
	}
}

// close shuts c down and removes it from the table. It may be called from
// any goroutine, any number of times; the read and write goroutines then end
// (a dial in flight is aborted).
func (c *conn) close() {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	close(c.done)
	c.mu.Lock()
	nc, ws, opened, cancel := c.nc, c.ws, c.opened, c.cancelDial
	c.mu.Unlock()
	c.layer.unregister(c, opened)
	if cancel != nil {
		cancel()
	}
	switch {
	case ws != nil:
		ws.CloseNow()
	case nc != nil:
		nc.Close()
	}
}

// finish is deferred by every read goroutine: it closes c and reports it.
func (l *Layer) finish(c *conn) {
	c.close()
	l.log.Debug("transport: connection closed", "conn", c.id, "proto", c.proto, "remote", c.remote)
	if l.cfg.OnConnClose != nil {
		l.cfg.OnConnClose(c.id, c.proto, c.remote)
	}
}

// writeNow writes one whole message (or keepalive) on c with the write
// timeout. Only c's writer goroutine calls it, so writes never interleave.
func (c *conn) writeNow(data []byte) error {
	timeout := c.layer.cfg.WriteTimeout
	if c.ws != nil {
		// RFC 7118 §5: text frames; a SIP message is UTF-8 text in practice.
		ctx, cancel := context.WithTimeout(c.layer.ctx, timeout)
		defer cancel()
		return c.ws.Write(ctx, websocket.MessageText, data)
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(data)
	return err
}

// serveStream is the read goroutine of a TCP or TLS connection.
func (l *Layer) serveStream(c *conn) {
	defer l.finish(c)
	f := newFramer(l.cfg.MaxHeaderBytes, l.cfg.MaxMessageSize)
	pkt := new(Packet)
	for {
		if err := l.drain(c, f, pkt); err != nil {
			l.framingError(c, err)
			return
		}
		if !l.readMore(c, f) {
			return
		}
	}
}

// readMore reads once into f. It keeps waiting while the connection is not
// idle (writes count as traffic, so the read deadline may be pushed back),
// and reports false when c is done.
func (l *Layer) readMore(c *conn, f *framer) bool {
	for {
		var deadline time.Time
		if d := l.cfg.IdleTimeout; d > 0 {
			deadline = c.lastActive().Add(d)
		}
		if c.nc.SetReadDeadline(deadline) != nil {
			return false
		}
		err := f.fill(c.nc)
		if err == nil {
			c.touch()
			return true
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if c.idleExpired() {
			l.log.Debug("transport: idle timeout", "conn", c.id, "proto", c.proto, "remote", c.remote)
			return false
		}
	}
}

// drain delivers every complete unit buffered in f.
func (l *Layer) drain(c *conn, f *framer, pkt *Packet) error {
	st := l.stats.of(c.proto)
	for {
		kind, msg, err := f.next()
		switch {
		case err != nil:
			return err
		case kind == frameNeedMore:
			return nil
		case kind == framePing:
			// RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
			st.keepalives.Add(1)
			c.pong()
		case kind == framePong:
			st.keepalives.Add(1)
		default:
			st.in.Add(1)
			*pkt = c.packet()
			pkt.Data = msg
			l.deliver(pkt)
		}
	}
}

// framingError counts and logs the error that ends a stream connection.
func (l *Layer) framingError(c *conn, err error) {
	st := l.stats.of(c.proto)
	if errors.Is(err, errHeaderTooBig) || errors.Is(err, errMessageTooBig) {
		st.oversize.Add(1)
	} else {
		st.garbage.Add(1)
	}
	l.log.Debug("transport: closing connection on framing error", "conn", c.id, "proto", c.proto, "remote", c.remote, "err", err)
}
