package transport

import (
	"strconv"
	"strings"
)

// Proto is a SIP transport protocol. The zero value is not a valid protocol.
type Proto uint8

// The transports of RFC 3261 §18 and RFC 7118.
const (
	UDP Proto = iota + 1
	TCP
	TLS
	WS
	WSS

	numProtos = int(WSS) + 1 // size of arrays indexed by Proto
)

// String returns the upper-case name used in a Via header ("UDP", "WSS").
func (p Proto) String() string {
	switch p {
	case UDP:
		return "UDP"
	case TCP:
		return "TCP"
	case TLS:
		return "TLS"
	case WS:
		return "WS"
	case WSS:
		return "WSS"
	}
	return "Proto(" + strconv.Itoa(int(p)) + ")"
}

// Reliable reports whether p is a stream (connection-oriented) transport.
func (p Proto) Reliable() bool { return p.valid() && p != UDP }

// Secure reports whether p runs over TLS.
func (p Proto) Secure() bool { return p == TLS || p == WSS }

// DefaultPort is the SIP port of p when a URI or Via names none (RFC 3261
// §18.2.2, §19.1.2): 5061 over TLS, 5060 otherwise.
func (p Proto) DefaultPort() int {
	if p.Secure() {
		return 5061
	}
	return 5060
}

// websocket reports whether p is WS or WSS.
func (p Proto) websocket() bool { return p == WS || p == WSS }

func (p Proto) valid() bool { return p >= UDP && p <= WSS }

// ParseProto parses a transport name as found in a Via header or a
// ;transport= URI parameter, ignoring case. It reports false for anything
// else (including SCTP, which Parley does not support).
func ParseProto(s string) (Proto, bool) {
	for p := UDP; p <= WSS; p++ {
		if strings.EqualFold(s, p.String()) {
			return p, true
		}
	}
	return 0, false
}
