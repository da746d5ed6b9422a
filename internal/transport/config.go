package transport

import (
	"crypto/tls"
	"net/netip"
	"time"
)

// Config tunes a Layer. Zero fields take the defaults listed; New fills them
// in, so a zero Config is usable for UDP and TCP.
type Config struct {
	// MaxMessageSize caps one SIP message (default 65535). A bigger message
	// on a stream closes the connection; a bigger datagram is dropped. Both
	// are counted in ProtoStats.DroppedOversize.
	MaxMessageSize int
	// MaxHeaderBytes caps the header section of a message on a stream
	// transport (default 16384, never more than MaxMessageSize).
	MaxHeaderBytes int
	// MaxConnsPerIP caps the open inbound connections from one IP address
	// (default 256, negative for no limit). Further accepts are closed at
	// once and counted in ProtoStats.ConnsRefused.
	MaxConnsPerIP int
	// IdleTimeout closes a TCP, TLS or WebSocket connection that has carried
	// no traffic (SIP messages or CRLF keepalives, either direction) for this
	// long (default 10m, negative to disable).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake and the WebSocket upgrade of
	// an inbound connection and the TLS handshake of a dialed one (default 5s).
	HandshakeTimeout time.Duration
	// DialTimeout bounds the TCP connect of an outgoing connection (default 5s).
	DialTimeout time.Duration
	// WriteTimeout bounds one write on a connection (default 10s); a write
	// that times out closes the connection. Writes happen on the
	// connection's own writer goroutine, never in Send.
	WriteTimeout time.Duration
	// SendQueueLen is how many messages may wait to be written on one
	// connection (default 64; the queue costs 32 bytes a slot, allocated
	// when the connection opens). Send on a connection whose queue is full
	// fails with ErrQueueFull, and the message is counted in
	// ProtoStats.SendQueueFull.
	SendQueueLen int
	// UDPRecvBuffer is the kernel receive buffer asked for on each UDP socket
	// (SO_RCVBUF; default 4 MiB, negative to keep the system default). The
	// kernel caps it at net.core.rmem_max. A burst that arrives while the
	// process is busy (a garbage collection, a database batch) waits there
	// instead of being dropped; Linux's default (about 208 KiB) holds only
	// about a hundred datagrams.
	UDPRecvBuffer int

	// TLSCertFile and TLSKeyFile hold the PEM certificate chain and key for
	// tls and wss listeners. They are polled every CertPollInterval (default
	// 2s) and reloaded when their size or modification time changes; a file
	// that does not load keeps the old certificate in service.
	TLSCertFile, TLSKeyFile string
	CertPollInterval        time.Duration
	// TLSClientConfig is cloned for outgoing TLS connections; nil means the
	// system roots. ServerName is set from Dest.Host when that is not empty.
	TLSClientConfig *tls.Config

	// WSAllowedOrigins lists origin patterns (path.Match syntax, matched
	// against the Origin host, or against "scheme://host" if the pattern has
	// "://") allowed to open a WebSocket. Empty allows any origin.
	WSAllowedOrigins []string
	// WSPingInterval is how long a WebSocket may be quiet before the server
	// pings it; a ping not answered within the same interval closes the
	// connection (default 30s, negative to disable).
	WSPingInterval time.Duration

	// OnConnClose, if set, is called once for every connection that was
	// registered (accepted and handshaken, or dialed) after it is closed and
	// removed from the table. It runs on the connection's own goroutine and
	// must not block for long.
	OnConnClose func(id ConnID, p Proto, remote netip.AddrPort)

	// OnSendError, if set, is called once for every message Send queued on a
	// stream but could not write: the dial failed or timed out, a write
	// failed or timed out, or the connection closed first. dst names the
	// connection (transport, remote address, ID) and data is a copy of the
	// message that the callee may keep and modify. It runs on the
	// connection's writer goroutine (or one of the Layer's), never inside
	// Send and with no lock of the Layer held; it must not block for long.
	// This is how a transaction learns of a transport error (RFC 3261 §17.1.4).
	OnSendError func(dst Dest, data []byte, err error)

	// Tap, if set, sees every SIP message: each one received (in = true),
	// after framing and the cheap accept check and before the Handler, and
	// each one Send writes (in = false), just before the write, so that a
	// reply cannot be tapped before its request (a write that then fails
	// was still tapped); on streams that is on the connection's writer
	// goroutine. CRLF keepalives and dropped input are not shown.
	// local is the listener's bound address (possibly unspecified) for UDP,
	// the connection's local end otherwise. data is valid only during the
	// call, so Tap copies what it keeps; it runs on the reading or sending
	// goroutine and must not block. nil costs nothing.
	Tap func(in bool, p Proto, local, remote netip.AddrPort, data []byte)
}

// Defaults used by New for zero Config fields.
const (
	DefaultMaxMessageSize   = 65535
	DefaultMaxHeaderBytes   = 16384
	DefaultMaxConnsPerIP    = 256
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultDialTimeout      = 5 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultSendQueueLen     = 64
	DefaultUDPRecvBuffer    = 4 << 20
	DefaultCertPollInterval = 2 * time.Second
	DefaultWSPingInterval   = 30 * time.Second
)

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	c.MaxMessageSize = orDefault(c.MaxMessageSize, DefaultMaxMessageSize)
	c.MaxHeaderBytes = min(orDefault(c.MaxHeaderBytes, DefaultMaxHeaderBytes), c.MaxMessageSize)
	c.MaxConnsPerIP = orDefault(c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	c.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	c.HandshakeTimeout = orDefault(c.HandshakeTimeout, DefaultHandshakeTimeout)
	c.DialTimeout = orDefault(c.DialTimeout, DefaultDialTimeout)
	c.WriteTimeout = orDefault(c.WriteTimeout, DefaultWriteTimeout)
	c.SendQueueLen = max(orDefault(c.SendQueueLen, DefaultSendQueueLen), 1)
	c.UDPRecvBuffer = orDefault(c.UDPRecvBuffer, DefaultUDPRecvBuffer)
	c.CertPollInterval = orDefault(c.CertPollInterval, DefaultCertPollInterval)
	c.WSPingInterval = orDefault(c.WSPingInterval, DefaultWSPingInterval)
	return c
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
