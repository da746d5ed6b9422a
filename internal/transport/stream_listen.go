package transport

import (
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// listenStream binds a TCP or TLS listener and returns its accept loop.
func (l *Layer) listenStream(ln *Listener) (func(), error) {
	var cfg *tls.Config
	if ln.spec.Proto == TLS {
		var err error
		if cfg, err = l.serverTLS(TLS); err != nil {
			return nil, err
		}
	}
	tl, err := net.Listen(network("tcp", ln.spec.Host), ln.spec.hostPort())
	if err != nil {
		return nil, err
	}
	ln.ln = tl
	ln.addr = addrPortOf(tl.Addr())
	lim := l.limit(tl, ln.spec.Proto)
	return func() { l.acceptLoop(ln, lim, cfg) }, nil
}

// acceptLoop accepts connections until the listener closes. Each gets its
// own goroutine at once; the TLS handshake happens there, not here.
func (l *Layer) acceptLoop(ln *Listener, lim net.Listener, cfg *tls.Config) {
	var backoff time.Duration
	for {
		nc, err := lim.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Warn("transport: accept error", "listener", ln.String(), "err", err)
			if !l.sleepCtx(backoff) {
				return
			}
			continue
		}
		backoff = 0
		if !l.spawn(func() { l.serveAccepted(ln, nc, cfg) }) {
			nc.Close()
			return
		}
	}
}

// serveAccepted handshakes (TLS), registers and serves one connection.
func (l *Layer) serveAccepted(ln *Listener, nc net.Conn, cfg *tls.Config) {
	if cfg != nil {
		tc, err := l.serverHandshake(nc, cfg)
		if err != nil {
			return
		}
		nc = tc
	}
	c := l.newConn(ln.spec.Proto, ln, addrPortOf(nc.RemoteAddr()), addrPortOf(nc.LocalAddr()))
	c.nc = nc
	if !l.register(c, nil) {
		nc.Close()
		return
	}
	l.serveStream(c)
}
