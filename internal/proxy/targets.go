package proxy

import (
	"context"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transport"
)

// plan is where a request goes: its targets, and whether to answer 302 with
// them instead of forwarding (redirect mode, §8.3).
type plan struct {
	targets  []target
	redirect bool
}

// isLocalUser reports whether a URI names a user of our domains.
func (p *Proxy) isLocalUser(uri []byte) bool {
	u, err := sip.ParseURI(uri)
	return err == nil && u.IsSIP() && len(u.User) > 0 && p.id.IsDomain(u.Host)
}

// targets decides where the request goes (§16.5).
func (p *Proxy) targets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, rt *routing) (plan, error) {
	if len(req.ToTag) > 0 {
		ts, err := p.dialogTargets(ctx, tx, req, rt)
		return plan{targets: ts}, err
	}
	if rt.next != nil { // loose routing: the next hop is the next Route (§16.4, §16.6 step 6)
		if !p.mayRelay(ctx, req) {
			return plan{}, sipserver.Reject(403, "Preloaded Route Denied", "") // no open relay through a Route
		}
		ts, err := p.nextRoute(ctx, rt)
		return plan{targets: ts}, err
	}
	if rt.haveFlows { // through a Record-Route of ours: the remote target, over the other end's flow
		ts, err := p.dialogTarget(ctx, tx, ruriOf(req, rt), rt)
		return plan{targets: ts}, err
	}
	return p.requestTargets(ctx, tx, req, rt)
}

// ruriOf is the Request-URI after §16.4: the last Route after a strict router.
func ruriOf(req *sip.Message, rt *routing) []byte {
	if rt.strict != nil {
		return rt.strict
	}
	return req.RequestURI()
}

func (p *Proxy) nextRoute(ctx context.Context, rt *routing) ([]target, error) {
	t, err := p.resolveTarget(ctx, rt.next, target{q: 1000}) // RFC 3263 on the Route (§16.6 step 7), with failover
	if err != nil {
		return nil, resolveError(err, 404, "Route Not Resolvable")
	}
	return []target{t}, nil
}

// dialogTargets routes a request inside a dialog (§16.12). A dialog Parley
// record-routed is followed on the word of its route set only when the top
// Route (or, after a strict router, the Request-URI) is a Record-Route of ours
// whose signature checks. Anything else gets the policy of a request outside a
// dialog, except that its From proves nothing: requests inside a dialog are
// never challenged (internal/auth), so only a trusted network may relay them
// elsewhere. A user of our domains is found by location like any caller's
// request; a foreign Route is refused with 403 (no open relay), any other
// target with 404 (Kamailio's "404 Not here").
func (p *Proxy) dialogTargets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, rt *routing) ([]target, error) {
	ruri := ruriOf(req, rt)
	if rt.signed {
		if rt.next != nil {
			return p.nextRoute(ctx, rt)
		}
		return p.dialogTarget(ctx, tx, ruri, rt)
	}
	trusted := p.trusted != nil && p.trusted(ctx)
	if rt.next != nil {
		if !trusted {
			return nil, sipserver.Reject(403, "Relaying Denied", "")
		}
		return p.nextRoute(ctx, rt)
	}
	u, err := sip.ParseURI(ruri)
	switch {
	case err == nil && u.IsSIP() && len(u.User) > 0 && p.id.IsDomain(u.Host):
		return p.locationTargets(ctx, u)
	case err == nil && u.IsSIP() && trusted:
		return p.resolvedTarget(ctx, ruri, "Remote Target Not Resolvable")
	}
	return nil, sipserver.Reject(404, "Not Here", "")
}

// dialogTarget sends an in-dialog request to the end it did not come from.
func (p *Proxy) dialogTarget(ctx context.Context, tx sipserver.ServerTx, ruri []byte, rt *routing) ([]target, error) {
	if rt.haveFlows {
		src := tx.Origin()
		other := rt.from
		if rt.from.matches(src.Proto, src.Addr, src.Conn) {
			other = rt.to
		}
		if d, ok := other.dest(p.tl); ok {
			return []target{{dest: d, q: 1000, keepURI: true}}, nil
		}
	}
	return p.resolvedTarget(ctx, ruri, "Remote Target Not Resolvable")
}

// resolvedTarget is the one target uri resolves to, the Request-URI kept;
// when it does not resolve the request gets 404 with reason.
func (p *Proxy) resolvedTarget(ctx context.Context, uri []byte, reason string) ([]target, error) {
	d, err := p.resolve(ctx, uri)
	if err != nil {
		return nil, sipserver.Reject(404, reason, "")
	}
	return []target{{dest: d, q: 1000, keepURI: true}}, nil
}

// requestTargets decides where a request outside a dialog goes: a static
// route first (a sip: user or a tel: number), then a user of our domains by
// location, then a foreign domain.
func (p *Proxy) requestTargets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, rt *routing) (plan, error) {
	ruri := ruriOf(req, rt)
	u, err := sip.ParseURI(ruri)
	if err != nil {
		return plan{}, sipserver.Reject(416, "", "")
	}
	if r, user := p.routeFor(&u); r != nil {
		return p.routeTargets(ctx, tx, req, rt, r, user, u.Host)
	}
	if isTel(&u) {
		return plan{}, sipserver.Reject(404, "No Route", "") // a number no static route takes
	}
	if !u.IsSIP() {
		return plan{}, sipserver.Reject(416, "", "")
	}
	pl := plan{redirect: p.redirects(u.Host)}
	if len(u.User) > 0 && p.id.IsDomain(u.Host) {
		pl.targets, err = p.locationTargets(ctx, u)
	} else {
		pl.targets, err = p.foreignTargets(ctx, req, ruri, pl.redirect)
	}
	return pl, err
}

// locationTargets looks up the AOR of a user of our domains (§16.5).
func (p *Proxy) locationTargets(ctx context.Context, u sip.URI) ([]target, error) {
	user, domain := sip.Unescape(string(u.User)), strings.ToLower(string(u.Host))
	bs, err := p.loc.Lookup(ctx, user+"@"+domain)
	if err != nil {
		p.log.Error("location lookup failed", "err", err)
		return nil, sipserver.Reject(500, "Server Internal Error", "")
	}
	var ts []target
	now := time.Now()
	for _, b := range bs {
		if t, ok := p.bindingTarget(ctx, b); ok {
			t.expires = int(b.Remaining(now) / time.Second)
			ts = append(ts, t)
		}
	}
	if len(ts) > 0 {
		return ts, nil
	}
	if p.cfg.Unregistered480 && p.cfg.UserExists != nil {
		if ok, err := p.cfg.UserExists(ctx, user, domain); err == nil && ok {
			return nil, sipserver.Reject(480, "", "")
		}
	}
	return nil, sipserver.Reject(404, "", "")
}

// foreignTargets forwards to another domain, by the outbound proxy or RFC 3263;
// a request from a foreign domain to a foreign domain is refused (no open
// relay). A redirect needs no next hop: the caller is sent to the Request-URI.
func (p *Proxy) foreignTargets(ctx context.Context, req *sip.Message, ruri []byte, redirect bool) ([]target, error) {
	if !p.mayRelay(ctx, req) {
		return nil, sipserver.Reject(403, "Relaying Denied", "")
	}
	if redirect {
		return []target{{q: 1000, keepURI: true}}, nil
	}
	next := ruri
	if p.cfg.OutboundProxy != "" {
		next = []byte(p.cfg.OutboundProxy)
	}
	t, err := p.resolveTarget(ctx, next, target{q: 1000, keepURI: true}) // RFC 3263 §4, failover §4.3
	if err != nil {
		return nil, resolveError(err, 404, "Domain Not Resolvable")
	}
	return []target{t}, nil
}

// routeFor returns the first static route matching a Request-URI, and the
// user it matched: the user part of a sip: or sips: URI, or the number of a
// tel: URI (visual separators removed, RFC 3966 §5.1.1).
func (p *Proxy) routeFor(u *sip.URI) (*Route, string) {
	var user string
	switch {
	case u.IsSIP():
		user = string(u.User)
	case isTel(u):
		user = telNumber(u)
	default:
		return nil, ""
	}
	for i := range p.cfg.Routes {
		if p.cfg.Routes[i].User.MatchString(user) {
			return &p.cfg.Routes[i], user
		}
	}
	return nil, ""
}

// routeTargets sends a request to a static route's gateway, keeping its
// Request-URI, or plans a 302 to the dialed user at the gateway for a route
// (or domain, or server) in redirect mode. A stateless route forwards at once
// and returns ErrNoResponse. Only our users and trusted networks may use a route.
func (p *Proxy) routeTargets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, rt *routing, r *Route, user string, host []byte) (plan, error) {
	if !p.mayRelay(ctx, req) {
		return plan{}, sipserver.Reject(403, "Relaying Denied", "")
	}
	t := target{uri: routeContact(r.To, user), keepURI: true, q: 1000}
	if r.Redirect || p.redirects(host) {
		return plan{targets: []target{t}, redirect: true}, nil
	}
	d, err := p.resolve(ctx, []byte(r.To))
	if err != nil {
		return plan{}, sipserver.Reject(503, "Gateway Not Resolvable", "")
	}
	if r.Stateless {
		p.sendStateless(req, rt, d, tx.Origin())
		return plan{}, sipserver.ErrNoResponse
	}
	t.dest = d
	return plan{targets: []target{t}}, nil
}

// mayRelay reports whether a request may go to another domain: it comes from
// a user of our domains (the auth middleware has checked who) or a trusted network.
func (p *Proxy) mayRelay(ctx context.Context, req *sip.Message) bool {
	from, err := sip.ParseURI(req.From.URI)
	if err == nil && from.IsSIP() && p.id.IsDomain(from.Host) {
		return true
	}
	return p.trusted != nil && p.trusted(ctx)
}

// bindingTarget turns a binding into a branch target: over the connection the
// phone registered on when it is still open, else to the address the REGISTER
// came from (NAT), else to the Contact; Path values lead the way when present.
func (p *Proxy) bindingTarget(ctx context.Context, b location.Binding) (target, bool) {
	t := target{uri: b.Contact, path: b.Path, q: b.Q}
	proto, _ := transport.ParseProto(b.Transport)
	if len(b.Path) > 0 {
		na, err := sip.ParseNameAddr([]byte(b.Path[0]))
		if err != nil {
			return t, false
		}
		d, err := p.resolve(ctx, na.URI)
		t.dest = d
		return t, err == nil
	}
	sameInstance := b.Instance == p.cfg.Instance || b.Instance == ""
	if b.ConnID != 0 && sameInstance && p.tl.ConnAlive(transport.ConnID(b.ConnID)) {
		t.dest = transport.Dest{Proto: proto, Addr: b.Source, Conn: transport.ConnID(b.ConnID)}
		return t, true
	}
	if proto == transport.WS || proto == transport.WSS {
		return t, false // a browser cannot be reached once its WebSocket is gone
	}
	uri := b.Contact
	if b.Received != "" && proto == transport.UDP {
		uri = b.Received
	}
	d, err := p.resolve(ctx, []byte(uri))
	if err != nil {
		p.log.Debug("binding not routable", "contact", b.Contact, "err", err)
		return t, false
	}
	t.dest = d
	return t, true
}
