package proxy

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// statelessWait bounds the DNS lookups of a request forwarded without a transaction.
const statelessWait = 2 * time.Second

// ServeAck relays an ACK that matches no server transaction (§16.11, RFC 6026):
// the ACK for a 2xx along a dialog's route set, which must come through a
// Record-Route of ours whose signature checks, or the ACK for a non-2xx
// answer to an INVITE a stateless route forwarded. Others are dropped: an
// ACK is never answered.
func (p *Proxy) ServeAck(req *sip.Message, src transaction.Source) {
	if req.MaxForwards == 0 {
		return
	}
	rt := p.processRoutes(req)
	if !rt.signed {
		p.forwardByStatelessRoute(req, &rt, src)
		return
	}
	dest, ok := p.statelessDest(req, &rt, src)
	if !ok {
		return
	}
	p.sendStateless(req, &rt, dest, src)
}

func (p *Proxy) statelessDest(req *sip.Message, rt *routing, src transaction.Source) (transport.Dest, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), statelessWait)
	defer cancel()
	if rt.next != nil {
		d, err := p.resolve(ctx, rt.next)
		return d, err == nil
	}
	if rt.haveFlows {
		other := rt.from
		if rt.from.matches(src.Proto, src.Addr, src.Conn) {
			other = rt.to
		}
		if d, ok := other.dest(p.tl); ok {
			return d, true
		}
	}
	d, err := p.resolve(ctx, ruriOf(req, rt))
	return d, err == nil
}

// StatelessCancel is the middleware, placed before the Mux (which answers
// 481 to a CANCEL that matched no INVITE, §9.2), that forwards such a CANCEL
// when a stateless route took its INVITE: with no transaction there is
// nothing to match, and the gateway pairs the CANCEL with its INVITE by the
// branch, which sendStateless derives from the caller's (§16.11).
func (p *Proxy) StatelessCancel() sipserver.Middleware {
	return func(next sipserver.Handler) sipserver.Handler {
		return sipserver.HandlerFunc(func(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) error {
			if req.Method() == sip.CANCEL {
				rt := p.processRoutes(req)
				if p.forwardByStatelessRoute(req, &rt, tx.Origin()) {
					return sipserver.ErrNoResponse
				}
			}
			return next.ServeSIP(ctx, tx, req)
		})
	}
}

// forwardByStatelessRoute forwards an ACK or CANCEL outside a dialog to the
// gateway of the stateless route its Request-URI matches, as the INVITE went
// (§16.11). Neither can carry credentials (§22.1), and they go nowhere but to
// a configured gateway, which ignores those matching no INVITE of its own.
// It reports whether the request was sent.
func (p *Proxy) forwardByStatelessRoute(req *sip.Message, rt *routing, src transaction.Source) bool {
	if rt.next != nil || rt.haveFlows {
		return false
	}
	u, err := sip.ParseURI(ruriOf(req, rt))
	if err != nil {
		return false
	}
	r, _ := p.routeFor(&u)
	if r == nil || !r.Stateless || r.Redirect {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), statelessWait)
	defer cancel()
	d, err := p.resolve(ctx, []byte(r.To))
	if err != nil {
		return false
	}
	p.sendStateless(req, rt, d, src)
	return true
}

// sendStateless forwards req to dest without a transaction. The branch is
// derived from the incoming one, so a retransmission, and the CANCEL and the
// ACK for a non-2xx of an INVITE, get the INVITE's (§16.11). When the request
// came on a connection, our Via carries that flow, signed, so that the
// responses go back on it (§18.2.2; see ServeResponse).
// An initial INVITE, SUBSCRIBE or REFER is record-routed like a stateful one.
func (p *Proxy) sendStateless(req *sip.Message, rt *routing, dest transport.Dest, src transaction.Source) {
	out, err := p.ifaceFor(dest.Proto, dest.Addr.Addr())
	if err != nil {
		return
	}
	req.ResetEdits()
	applyRoutes(req, rt)
	req.DecrementMaxForwards()
	p.consumeCredentials(req)
	if recordRoutes(req) {
		p.addRecordRoutes(req, p.ifaceIn(src), out, flow{src.Proto, src.Addr, src.Conn}, flow{dest.Proto, dest.Addr, dest.Conn})
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.Write(req.Via.Branch)
	branch := p.txl.SignBranch(&req.Via, fmt.Sprintf("%ssl%016x", sip.BranchMagic, h.Sum64()))
	via := out.via(branch)
	if req.Method() != sip.ACK && src.Proto.Reliable() { // nothing answers an ACK; UDP answers follow the Via (§18.2.2)
		pf := flow{src.Proto, src.Addr, src.Conn}.encode()
		via = fmt.Appendf(via, ";pf=%s;ps=%s", pf, p.tok.sign(kindVia, []byte(branch), []byte(pf)))
	}
	req.PushVia(via)
	if dest.Proto.Reliable() {
		req.EnsureContentLength()
	}
	dest.Local = out.local
	if _, err := p.tl.Send(dest, req.AppendTo(make([]byte, 0, len(req.Bytes())+256))); err != nil {
		p.log.Debug("stateless relay failed", "err", err)
	}
	req.ResetEdits()
}

// ServeResponse handles a response that matches no client transaction. A
// 2xx to an INVITE branch the proxy gave up is acknowledged and hung up (see
// lateBranches). Any other is relayed (§16.7 step 2, §16.11): our Via off,
// then to the flow our Via names when its signature checks (the connection of
// a TCP, TLS or WebSocket caller), else to the next Via (RFC 3581 §4).
func (p *Proxy) ServeResponse(res *sip.Message, _ transaction.Source) {
	if p.late.handle(p, res) {
		return
	}
	dest, ok := p.responseDest(res)
	if !ok {
		return
	}
	res.PopVia()
	if r, ok := p.cfg.ReasonPhrases[res.StatusCode()]; ok {
		res.SetReason([]byte(r))
	}
	if _, err := p.tl.Send(dest, res.AppendTo(make([]byte, 0, len(res.Bytes())+64))); err != nil {
		p.log.Debug("stateless response relay failed", "err", err)
	}
	res.ResetEdits()
}

// responseDest is where a response relayed without a transaction goes: the
// signed flow in our (top) Via, else the address of the next Via. A flow
// whose signature does not check is never used to pick a connection.
func (p *Proxy) responseDest(res *sip.Message) (transport.Dest, bool) {
	top := &res.Via
	if pf, ok := sip.Param(top.Params, "pf"); ok {
		ps, _ := sip.Param(top.Params, "ps")
		if valid, local := p.tok.verify(ps, kindVia, top.Branch, pf); valid {
			if f, ok := decodeFlow(pf); ok {
				if !local {
					f.conn = 0
				}
				return transport.Dest{Proto: f.proto, Addr: f.addr, Conn: f.conn}, true
			}
		}
	}
	it := res.Values(sip.HdrVia)
	it.Next()
	v, ok := it.Next()
	if !ok {
		return transport.Dest{}, false
	}
	via, err := sip.ParseVia(v)
	if err != nil {
		return transport.Dest{}, false
	}
	return destOfVia(&via)
}
