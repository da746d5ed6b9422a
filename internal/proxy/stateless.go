package proxy

import (
	"context"
	"fmt"
	"hash/maphash"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// ServeAck relays an ACK for a 2xx, which has no transaction (§16.11, RFC 6026):
// Route processing, then the next Route or the other end of the dialog.
func (p *Proxy) ServeAck(req *sip.Message, src transaction.Source) {
	if req.MaxForwards == 0 {
		return
	}
	rt := p.processRoutes(req)
	if rt.ours == 0 && rt.strict == nil {
		return // not through a Route of ours: not our dialog
	}
	dest, ok := p.statelessDest(req, &rt, src)
	if !ok {
		return
	}
	p.sendStateless(req, &rt, dest, src)
}

func (p *Proxy) statelessDest(req *sip.Message, rt *routing, src transaction.Source) (transport.Dest, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2e9)
	defer cancel()
	if rt.next != nil {
		d, err := resolve(ctx, rt.next)
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
	ruri := req.RequestURI()
	if rt.strict != nil {
		ruri = rt.strict
	}
	d, err := resolve(ctx, ruri)
	return d, err == nil
}

// sendStateless forwards req to dest without a transaction. The branch is
// derived from the incoming one, so a retransmission gets the same (§16.11).
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
		from := flow{src.Proto, src.Addr, src.Conn}.encode()
		to := flow{dest.Proto, dest.Addr, dest.Conn}.encode()
		req.AddRecordRoute(out.recordRoute(from, to))
		if in := p.ifaceIn(src); in != out {
			req.AddRecordRoute(in.recordRoute(from, to))
		}
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.Write(req.Via.Branch)
	req.PushVia(out.via(fmt.Sprintf("%ssl%016x", sip.BranchMagic, h.Sum64())))
	if dest.Proto.Reliable() {
		req.EnsureContentLength()
	}
	dest.Local = out.local
	if _, err := p.tl.Send(dest, req.AppendTo(make([]byte, 0, len(req.Bytes())+256))); err != nil {
		p.log.Debug("stateless relay failed", "err", err)
	}
	req.ResetEdits()
}

// ServeResponse relays a response that matches no client transaction (§16.7
// step 2 / §16.11): our Via off, then to the next Via.
func (p *Proxy) ServeResponse(res *sip.Message, _ transaction.Source) {
	it := res.Values(sip.HdrVia)
	it.Next()
	v, ok := it.Next()
	if !ok {
		return
	}
	via, err := sip.ParseVia(v)
	if err != nil {
		return
	}
	dest, ok := destOfVia(&via)
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
