package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// ErrQueueFull is returned by Send when the connection's send queue
// (Config.SendQueueLen) is full: its peer reads too slowly, or its dial has
// not completed yet. The message is dropped and counted.
var ErrQueueFull = errors.New("transport: send queue of the connection is full")

// outMsg is one message waiting for a connection's writer goroutine. It is
// kept small: a connection's queue is allocated whole when it opens.
type outMsg struct {
	data      []byte // a private copy
	keepalive bool   // a CRLF pong: not tapped, counted or reported
}

// enqueue queues a copy of data for c's writer and returns at once. A full
// queue drops the message (ErrQueueFull). A failure after that (dial, write,
// connection closed first) goes to Config.OnSendError, never to the caller,
// so that the caller's locks are never held when it is reported.
func (l *Layer) enqueue(c *conn, data []byte) error {
	if c.closed.Load() {
		return fmt.Errorf("transport: send on %v conn %d: %w", c.proto, c.id, c.failure())
	}
	if len(c.sendq) == cap(c.sendq) { // full already: spare the copy
		return l.queueFull(c)
	}
	select {
	case c.sendq <- outMsg{data: append([]byte(nil), data...)}:
	default:
		return l.queueFull(c)
	}
	if c.closed.Load() {
		// The writer may have drained the queue and gone before the message
		// went in: fail what is left, on a goroutine of its own.
		l.spawn(func() { l.failQueued(c, c.failure()) })
	}
	return nil
}

// queueFull counts a message dropped on c's full queue and returns the error.
func (l *Layer) queueFull(c *conn) error {
	l.stats.of(c.proto).queueFull.Add(1)
	return fmt.Errorf("transport: send on %v conn %d: %w", c.proto, c.id, ErrQueueFull)
}

// pong queues a CRLF keepalive answer (RFC 5626 §4.4.1) on c; a full queue
// drops it silently.
func (c *conn) pong() {
	select {
	case c.sendq <- outMsg{data: []byte(crlf), keepalive: true}:
	default:
	}
}

// writeLoop is the writer goroutine of c: it dials c first if this Layer
// opens it, then writes queued messages one whole message at a time until c
// closes. A dial or write failure closes c and fails every queued message.
func (l *Layer) writeLoop(c *conn) {
	if c.dial != nil {
		if err := l.dialConn(c); err != nil {
			c.closeWith(err)
			l.failQueued(c, err)
			return
		}
	}
	for {
		select {
		case m := <-c.sendq:
			if err := l.writeMsg(c, m); err != nil {
				l.log.Debug("transport: write failed", "conn", c.id, "proto", c.proto, "err", err)
				c.closeWith(err) // a partial write leaves the stream unframeable
				l.sendFailed(c, m, err)
				l.failQueued(c, err)
				return
			}
		case <-c.done:
			l.failQueued(c, c.failure())
			return
		}
	}
}

// closeWith records why c failed, for messages queued after, and closes it.
func (c *conn) closeWith(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.close()
}

// failure says why c closed: the dial or write error, or net.ErrClosed.
func (c *conn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return net.ErrClosed
}

// writeMsg taps, writes and counts one message.
func (l *Layer) writeMsg(c *conn, m outMsg) error {
	if !m.keepalive && l.cfg.Tap != nil {
		l.cfg.Tap(false, c.proto, c.local, c.remote, m.data)
	}
	if err := c.writeNow(m.data); err != nil {
		return err
	}
	c.touch()
	if !m.keepalive {
		l.stats.of(c.proto).out.Add(1)
	}
	return nil
}

// failQueued reports every message still queued on the closed c as failed.
func (l *Layer) failQueued(c *conn, err error) {
	for {
		select {
		case m := <-c.sendq:
			l.sendFailed(c, m, err)
		default:
			return
		}
	}
}

// sendFailed counts a message that was queued but not written and passes it
// to Config.OnSendError.
func (l *Layer) sendFailed(c *conn, m outMsg, err error) {
	if m.keepalive {
		return
	}
	l.stats.of(c.proto).sendErrors.Add(1)
	if l.cfg.OnSendError != nil {
		dst := Dest{Proto: c.proto, Addr: c.remote, Conn: c.id}
		l.cfg.OnSendError(dst, m.data, fmt.Errorf("transport: send on %v conn %d: %w", c.proto, c.id, err))
	}
}

// dialConn opens the connection of a dialed c (TCP connect, then the TLS
// handshake), makes it usable and starts its read goroutine. It runs on c's
// writer goroutine; close aborts it.
func (l *Layer) dialConn(c *conn) error {
	timeout := l.cfg.DialTimeout
	if c.proto == TLS {
		timeout += l.cfg.HandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	c.mu.Lock()
	c.cancelDial = cancel
	c.mu.Unlock()
	nc, err := l.dialContext(ctx, *c.dial, c.remote)
	if err != nil {
		l.stats.of(c.proto).handshake.Add(1)
		return fmt.Errorf("transport: dial %v %v: %w", c.proto, c.remote, err)
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		nc.Close()
		return net.ErrClosed
	}
	c.nc, c.local, c.opened, c.cancelDial = nc, addrPortOf(nc.LocalAddr()), true, nil
	c.mu.Unlock()
	c.touch()
	l.countOpen(c, true)
	if !l.spawn(func() { l.serveStream(c) }) {
		return ErrClosed
	}
	return nil
}
