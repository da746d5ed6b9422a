// Package transport moves SIP messages between the network and the rest of
// Parley: it owns the UDP sockets, the TCP/TLS/WebSocket listeners, the
// connection table and the framing of messages on stream transports. It knows
// nothing about SIP beyond what framing needs; parsing is done by the caller.
//
// # Protocols
//
//   - UDP, TCP and TLS as in RFC 3261 §18. One datagram carries one message
//     (§18.3); on stream transports messages are delimited by the mandatory
//     Content-Length header (§18.3), and a message that cannot be framed
//     closes the connection.
//   - WS and WSS as in RFC 7118: the HTTP upgrade must offer the "sip"
//     subprotocol (§4), each WebSocket message carries exactly one SIP
//     message (§5), and replies are sent as text frames.
//   - Keepalives as in RFC 5626 §4.4.1: a "\r\n\r\n" ping on a stream (or in
//     a WebSocket message) is answered with a "\r\n" pong, lone CRLFs between
//     messages are skipped, and CRLF-only UDP datagrams are ignored.
//
// # Responses and NAT
//
// Every received [Packet] names the [ConnID] it arrived on. Sending with
// [Dest.Conn] set writes on that same connection while it is open, which is
// how responses (RFC 3261 §18.2.2) and later requests reach a client behind
// NAT (RFC 3581 §4, RFC 5626) or on a WebSocket. The caller is responsible
// for received/rport bookkeeping in the Via header; [Packet.Source] gives it
// the address the message came from.
//
// # Life cycle
//
//	tl := transport.New(transport.Config{TLSCertFile: "c.pem", TLSKeyFile: "k.pem"}, h, log)
//	defer tl.Close()
//	if _, err := tl.Listen("udp:0.0.0.0:5060"); err != nil { ... }
//	if _, err := tl.Listen("wss:[::]:443/ws"); err != nil { ... }
//
// The [Handler] is called from one goroutine per UDP socket and one per
// connection, so messages of one connection arrive in order and a slow peer
// never holds up another. The handler must not keep [Packet.Data] after it
// returns.
//
// [Layer.Send] never blocks on a stream: each connection has a writer
// goroutine and a bounded queue ([Config.SendQueueLen]); a dial, a TLS
// handshake or a peer that does not read delays only that connection's
// queue. Failures found later are reported to [Config.OnSendError].
//
// # Lock order
//
// conn.mu (one per connection: its socket while it is being dialed) may be
// held while taking nothing else. Layer.mu (listeners, connection table) is
// never held during I/O or while calling out. Layer.certMu is only taken by
// Listen. ipLimiter.mu is a leaf.
package transport
