package proxy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/parley-sip/parley/internal/transport"
)

// flow is one end of a dialog as Parley sees it: the transport, the address
// packets come from, and the connection they came on (0 for UDP).
type flow struct {
	proto transport.Proto
	addr  netip.AddrPort
	conn  transport.ConnID
}

// encode writes the flow as a URI parameter value: proto~addr~port~conn
// ('~' is unreserved in URIs; IPv6 colons are allowed in parameter values).
func (f flow) encode() string {
	return fmt.Sprintf("%s~%s~%d~%d", f.proto, f.addr.Addr().Unmap(), f.addr.Port(), f.conn)
}

func decodeFlow(b []byte) (flow, bool) {
	parts := bytes.Split(b, []byte("~"))
	if len(parts) != 4 {
		return flow{}, false
	}
	proto, ok := transport.ParseProto(string(parts[0]))
	a, err := netip.ParseAddr(string(parts[1]))
	port, err2 := strconv.ParseUint(string(parts[2]), 10, 16)
	conn, err3 := strconv.ParseUint(string(parts[3]), 10, 64)
	if !ok || err != nil || err2 != nil || err3 != nil {
		return flow{}, false
	}
	return flow{proto, netip.AddrPortFrom(a, uint16(port)), transport.ConnID(conn)}, true
}

// matches reports whether a packet from src belongs to f.
func (f flow) matches(proto transport.Proto, src netip.AddrPort, conn transport.ConnID) bool {
	if f.conn != 0 && f.conn == conn {
		return true
	}
	return f.proto == proto && f.addr.Addr().Unmap() == src.Addr().Unmap() && f.addr.Port() == src.Port()
}

// dest returns where to send to f, or ok=false when its connection is gone
// and a stream cannot be reopened from our side.
func (f flow) dest(tl *transport.Layer) (transport.Dest, bool) {
	d := transport.Dest{Proto: f.proto, Addr: f.addr, Conn: f.conn}
	if f.conn != 0 && !tl.ConnAlive(f.conn) {
		return d, false
	}
	return d, true
}
