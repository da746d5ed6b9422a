package proxy

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// prepare builds the request for one branch (§16.6 steps 1-8): Route changes
// of §16.4, the new Request-URI, Max-Forwards, Path as Route, Record-Route
// (two entries when the request changes transport or interface), and our Via.
// It returns the bytes and the local address to send from.
func (p *Proxy) prepare(req *sip.Message, rt *routing, src transaction.Source, t target, branch string) ([]byte, netip.AddrPort, error) {
	out, err := p.ifaceFor(t.dest.Proto, t.dest.Addr.Addr())
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	req.ResetEdits()
	applyRoutes(req, rt)
	if !t.keepURI && t.uri != "" {
		req.SetRequestURI([]byte(t.uri))
	}
	req.DecrementMaxForwards()
	p.consumeCredentials(req)
	for _, pv := range t.path { // RFC 3327 §5.2: Path values become the route, in order
		req.PushRoute([]byte(pv))
	}
	if recordRoutes(req) {
		p.addRecordRoutes(req, p.ifaceIn(src), out, flow{src.Proto, src.Addr, src.Conn}, flow{t.dest.Proto, t.dest.Addr, t.dest.Conn})
	}
	req.PushVia(out.via(branch))
	if t.dest.Proto.Reliable() {
		req.EnsureContentLength() // §18.3: mandatory on streams
	}
	data := req.AppendTo(make([]byte, 0, len(req.Bytes())+512))
	req.ResetEdits()
	return data, out.local, nil
}

// addRecordRoutes adds our Record-Route, with the dialog's flows signed
// (tokens), and a second one naming the listener the request came in on when
// it leaves by another (RFC 5658 double Record-Route).
func (p *Proxy) addRecordRoutes(req *sip.Message, in, out iface, from, to flow) {
	pf, pt := from.encode(), to.encode()
	sig := p.signFlows(req.CallID, pf, pt)
	req.AddRecordRoute(out.recordRoute(pf, pt, sig))
	if in.proto != out.proto || in.host != out.host || in.port != out.port {
		req.AddRecordRoute(in.recordRoute(pf, pt, sig))
	}
}

// recordRoutes reports whether Parley stays on the path of the dialog this
// request may create: initial INVITE, SUBSCRIBE and REFER (§16.6 step 4, as
// Kamailio's record_route() on initial requests).
func recordRoutes(req *sip.Message) bool {
	if len(req.ToTag) > 0 {
		return false
	}
	switch req.Method() {
	case sip.INVITE, sip.SUBSCRIBE, sip.REFER:
		return true
	}
	return false
}

// ifaceIn is the listener a request arrived on.
func (p *Proxy) ifaceIn(src transaction.Source) iface {
	for _, ln := range p.tl.Listeners() {
		if ln.Proto() == src.Proto && ln.Addr() == src.Local {
			return p.ifaceOf(ln)
		}
	}
	i, err := p.ifaceFor(src.Proto, src.Addr.Addr())
	if err != nil {
		return iface{proto: src.Proto, host: fmt.Sprint(src.Local.Addr()), port: int(src.Local.Port()), local: src.Local}
	}
	return i
}

// destOfVia is where a response goes when relayed without a transaction: the
// address in the Via, with received and rport (RFC 3581 §4, §18.2.2).
func destOfVia(v *sip.Via) (transport.Dest, bool) {
	proto, ok := transport.ParseProto(string(v.Transport))
	if !ok {
		return transport.Dest{}, false
	}
	host := string(v.Host)
	if len(v.Received) > 0 {
		host = string(v.Received)
	}
	a, err := netip.ParseAddr(trimBrackets(host))
	if err != nil {
		return transport.Dest{}, false
	}
	port := v.Port
	if len(v.RPort) > 0 {
		fmt.Sscan(string(v.RPort), &port)
	}
	if port == 0 {
		port = defaultPort(proto)
	}
	return transport.Dest{Proto: proto, Addr: netip.AddrPortFrom(a.Unmap(), uint16(port))}, true
}

func trimBrackets(s string) string {
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

// consumeCredentials removes Proxy-Authorization meant for one of our realms
// before forwarding (§22.3 lets a proxy do so; like Kamailio's
// consume_credentials), so the callee never sees the caller's digest.
func (p *Proxy) consumeCredentials(req *sip.Message) {
	if p.hasOurCredentials(req) {
		req.RemoveHeaders(sip.HdrProxyAuthorization)
	}
}

// hasOurCredentials reports whether a Proxy-Authorization value is for one of our realms.
func (p *Proxy) hasOurCredentials(req *sip.Message) bool {
	it := req.Values(sip.HdrProxyAuthorization)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if i := bytes.Index(bytes.ToLower(v), []byte("realm=")); i >= 0 {
			realm := bytes.Trim(bytes.TrimSpace(bytes.SplitN(v[i+6:], []byte(","), 2)[0]), `"`)
			if p.id.IsDomain(realm) {
				return true
			}
		}
	}
	return false
}
