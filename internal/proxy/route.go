package proxy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/rand/v2"

	"github.com/parley-sip/parley/internal/sip"
)

// routing is what Route processing (§16.4) found in a request.
type routing struct {
	ours int    // Route values naming Parley at the top, to remove
	next []byte // the first other Route URI, nil if none
	// from and to are the dialog's flows, read from a Record-Route URI of
	// ours whose signature checks; signed says there was one. A Route naming
	// Parley without a valid signature is removed like any Route of ours, but
	// neither its flows nor the dialog it claims are believed.
	from, to  flow
	haveFlows bool
	signed    bool
	strict    []byte // new Request-URI when the previous hop was a strict router
}

// processRoutes applies §16.4: a Request-URI that is one of our Record-Route
// URIs came from a strict router, so the last Route value becomes the
// Request-URI; then the Route values naming Parley are counted for removal.
func (p *Proxy) processRoutes(req *sip.Message) routing {
	var r routing
	if u, err := sip.ParseURI(req.RequestURI()); err == nil && p.isOurRR(&u) {
		p.readFlows(&r, u.Params, req.CallID)
		r.strict = lastRoute(req)
	}
	it := req.Values(sip.HdrRoute)
	n := 0
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		n++
		if r.strict != nil && n == req.Count(sip.HdrRoute) {
			break // it becomes the Request-URI
		}
		na, err := sip.ParseNameAddr(v)
		if err != nil {
			return r
		}
		u, err := sip.ParseURI(na.URI)
		if err != nil || !p.isOurs(&u) {
			r.next = na.URI
			return r
		}
		r.ours++
		p.readFlows(&r, u.Params, req.CallID)
	}
	return r
}

// readFlows takes the flows of one of our Record-Route URIs into r when its
// signature (ps) covers them and the request's Call-ID. Flows signed by
// another process keep their addresses but lose their connection numbers.
func (p *Proxy) readFlows(r *routing, params, callID []byte) {
	pf, ok1 := sip.Param(params, "pf")
	pt, ok2 := sip.Param(params, "pt")
	ps, ok3 := sip.Param(params, "ps")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	valid, local := p.tok.verify(ps, kindRecordRoute, callID, pf, pt)
	if !valid {
		return
	}
	from, ok1 := decodeFlow(pf)
	to, ok2 := decodeFlow(pt)
	if !ok1 || !ok2 {
		return
	}
	if !local {
		from.conn, to.conn = 0, 0
	}
	r.from, r.to, r.haveFlows, r.signed = from, to, true, true
}

// signFlows returns the signature of a Record-Route's flows for a dialog
// with callID (see readFlows).
func (p *Proxy) signFlows(callID []byte, from, to string) string {
	return p.tok.sign(kindRecordRoute, callID, []byte(from), []byte(to))
}

func lastRoute(req *sip.Message) []byte {
	var last []byte
	it := req.Values(sip.HdrRoute)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		last = v
	}
	if last == nil {
		return nil
	}
	na, err := sip.ParseNameAddr(last)
	if err != nil {
		return nil
	}
	return na.URI
}

// isOurs reports whether a SIP URI without a user names this server.
func (p *Proxy) isOurs(u *sip.URI) bool {
	return u.IsSIP() && len(u.User) == 0 && p.id.IsSelf(u.Host, u.Port)
}

// isOurRR reports whether u is a Record-Route URI of ours (it has lr).
func (p *Proxy) isOurRR(u *sip.URI) bool {
	_, lr := u.Param("lr")
	return lr && p.isOurs(u)
}

// applyRoutes writes the §16.4 changes into req's edits.
func applyRoutes(req *sip.Message, r *routing) {
	if r.strict != nil {
		req.SetRequestURI(r.strict)
		vals := routeValues(req)
		req.RemoveHeaders(sip.HdrRoute)
		for _, v := range vals[r.ours : len(vals)-1] {
			req.PushRoute(v)
		}
		return
	}
	for i := 0; i < r.ours; i++ {
		req.RemoveTopRoute()
	}
}

func routeValues(req *sip.Message) [][]byte {
	var out [][]byte
	it := req.Values(sip.HdrRoute)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		out = append(out, v)
	}
	return out
}

// loopHash identifies a request for loop detection (§16.6 step 8, §16.3
// step 4): the fields that change when a request spirals instead of looping.
// Route and Proxy-Authorization are hashed as they are forwarded (our own
// Route values and credentials removed), so a request that comes back
// unchanged hashes the same.
func (p *Proxy) loopHash(req *sip.Message, rt *routing) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	field := func(b []byte) {
		h.Write(b)
		h.WriteByte(0)
	}
	field(req.RequestURI())
	field(req.FromTag)
	field(req.ToTag)
	field(req.CallID)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], req.CSeq)
	field(b[:])
	field(req.Get(sip.HdrProxyRequire))
	for _, v := range forwardedRoutes(req, rt) {
		field(v)
	}
	if !p.hasOurCredentials(req) {
		it := req.Values(sip.HdrProxyAuthorization)
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			field(v)
		}
	}
	return h.Sum64()
}

// forwardedRoutes are the Route values left after §16.4: ours removed, and
// the last one when a strict router made it the Request-URI.
func forwardedRoutes(req *sip.Message, rt *routing) [][]byte {
	vals := routeValues(req)
	end := len(vals)
	if rt.strict != nil && end > 0 {
		end--
	}
	if rt.ours >= end {
		return nil
	}
	return vals[rt.ours:end]
}

// newBranch makes a branch carrying the loop hash, unique per branch.
func newBranch(loop uint64) string {
	return fmt.Sprintf("%s%016x.%016x", sip.BranchMagic, loop, rand.Uint64())
}

// looped reports whether one of the Vias is ours with the same loop hash (§16.3 step 4).
func (p *Proxy) looped(req *sip.Message, rt *routing) bool {
	prefix := fmt.Appendf(nil, "%s%016x.", sip.BranchMagic, p.loopHash(req, rt))
	it := req.Values(sip.HdrVia)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		via, err := sip.ParseVia(v)
		if err == nil && bytes.HasPrefix(via.Branch, prefix) && p.id.IsSelf(via.Host, via.Port) {
			return true
		}
	}
	return false
}
