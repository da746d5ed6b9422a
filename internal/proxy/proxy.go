package proxy

import (
	"context"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// Proxy routes requests that are not for Parley itself.
type Proxy struct {
	cfg      Config
	loc      location.Store
	txl      *transaction.Layer
	tl       *transport.Layer
	id       *sipserver.Identity
	log      *slog.Logger
	seed     maphash.Seed
	trusted  func(ctx context.Context) bool
	srcCache sync.Map // netip.Addr -> our host for Via/Record-Route toward it
	calls    *Calls
}

var (
	_ sipserver.Handler          = (*Proxy)(nil)
	_ sipserver.StatelessHandler = (*Proxy)(nil)
)

// New returns a Proxy that forwards through srv's transaction and transport layers.
func New(cfg Config, loc location.Store, srv *sipserver.Server, id *sipserver.Identity, log *slog.Logger) *Proxy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg.withDefaults(), loc: loc, txl: srv.Transactions(), tl: srv.Transport(), id: id,
		log: log, seed: maphash.MakeSeed()}
	p.calls = cfg.Calls
	if p.calls == nil {
		p.calls = NewCalls(nil)
	}
	p.calls.attach(p, cfg.MaxCallDuration)
	return p
}

// Calls returns the dialog tracker: active calls, and ending them.
func (p *Proxy) Calls() *Calls { return p.calls }

// SetTrusted sets how the proxy learns that a request came from a trusted
// network (those may relay to foreign domains).
func (p *Proxy) SetTrusted(f func(ctx context.Context) bool) { p.trusted = f }

// ServeSIP routes one request statefully (§16).
func (p *Proxy) ServeSIP(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) error {
	if p.looped(req) {
		return sipserver.Reject(482, "", "")
	}
	rt := p.processRoutes(req)
	var c *call
	if req.Method() == sip.INVITE && len(req.ToTag) == 0 {
		c = p.calls.start(req, tx.Origin(), p.isLocalUser(req.RequestURI()))
	} else if len(req.ToTag) > 0 {
		p.calls.inDialog(req, tx.Origin())
	}
	targets, err := p.targets(ctx, tx, req, &rt)
	if err == nil && p.cfg.Redirect && rt.next == nil && len(req.ToTag) == 0 {
		err = redirect(tx, targets)
		if err == nil {
			p.calls.failed(c, 302, "Moved Temporarily")
		}
		return err
	}
	if err != nil {
		if se, ok := err.(*sipserver.StatusError); ok {
			p.calls.failed(c, se.Code, se.Reason)
		}
		return err
	}
	f := newForker(p, tx, req, &rt)
	f.call = c
	return f.run(ctx, groupByQ(targets))
}

// isLocalUser reports whether a URI names a user of our domains.
func (p *Proxy) isLocalUser(uri []byte) bool {
	u, err := sip.ParseURI(uri)
	return err == nil && u.IsSIP() && len(u.User) > 0 && p.id.IsDomain(u.Host)
}

// targets decides where the request goes (§16.5).
func (p *Proxy) targets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, rt *routing) ([]target, error) {
	inDialog := len(req.ToTag) > 0
	if !inDialog && rt.next != nil && !p.mayRelay(ctx, req) {
		return nil, sipserver.Reject(403, "Preloaded Route Denied", "") // no open relay through a Route
	}
	if inDialog && rt.ours == 0 && rt.strict == nil && rt.next == nil {
		// Not a dialog we record-routed, nor one we know: §12.2.2 answers 481
		// (Kamailio's default configuration says "404 Not here"). No record is made.
		return nil, sipserver.Reject(481, "", "")
	}
	if rt.next != nil { // loose routing: the next hop is the next Route (§16.4, §16.6 step 6)
		d, err := resolve(ctx, rt.next)
		if err != nil {
			return nil, sipserver.Reject(404, "Route Not Resolvable", "")
		}
		return []target{{dest: d, q: 1000}}, nil
	}
	ruri := req.RequestURI()
	if rt.strict != nil {
		ruri = rt.strict
	}
	if inDialog || rt.haveFlows { // inside a dialog: the remote target, over the other end's flow
		return p.dialogTarget(ctx, tx, ruri, rt)
	}
	u, err := sip.ParseURI(ruri)
	if err != nil || !u.IsSIP() {
		return nil, sipserver.Reject(416, "", "")
	}
	if r := p.route(u.User); r != nil {
		return p.routeTargets(ctx, tx, req, r)
	}
	if len(u.User) > 0 && p.id.IsDomain(u.Host) {
		return p.locationTargets(ctx, u)
	}
	return p.foreignTargets(ctx, tx, req, ruri)
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
	d, err := resolve(ctx, ruri)
	if err != nil {
		return nil, sipserver.Reject(404, "Remote Target Not Resolvable", "")
	}
	return []target{{dest: d, q: 1000, keepURI: true}}, nil
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
// a request from a foreign domain to a foreign domain is refused (no open relay).
func (p *Proxy) foreignTargets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, ruri []byte) ([]target, error) {
	if !p.mayRelay(ctx, req) {
		return nil, sipserver.Reject(403, "Relaying Denied", "")
	}
	next := ruri
	if p.cfg.OutboundProxy != "" {
		next = []byte(p.cfg.OutboundProxy)
	}
	d, err := resolve(ctx, next)
	if err != nil {
		return nil, sipserver.Reject(404, "Domain Not Resolvable", "")
	}
	return []target{{dest: d, q: 1000, keepURI: true}}, nil
}

// route returns the first static route matching the user, or nil.
func (p *Proxy) route(user []byte) *Route {
	for i := range p.cfg.Routes {
		if p.cfg.Routes[i].User.Match(user) {
			return &p.cfg.Routes[i]
		}
	}
	return nil
}

// routeTargets sends a request to a static route's gateway, or answers it
// from the route: 302 for a redirect route, ErrNoResponse after a stateless
// forward. Only our users and trusted networks may use a route.
func (p *Proxy) routeTargets(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, r *Route) ([]target, error) {
	if !p.mayRelay(ctx, req) {
		return nil, sipserver.Reject(403, "Relaying Denied", "")
	}
	if r.Redirect {
		return nil, sipserver.Reject(302, "", "Contact: <"+r.To+">\r\n")
	}
	d, err := resolve(ctx, []byte(r.To))
	if err != nil {
		return nil, sipserver.Reject(503, "Gateway Not Resolvable", "")
	}
	if r.Stateless {
		rt := routing{}
		p.sendStateless(req, &rt, d, tx.Origin())
		return nil, sipserver.ErrNoResponse
	}
	return []target{{dest: d, q: 1000, keepURI: true}}, nil
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
		d, err := resolve(ctx, na.URI)
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
	d, err := resolve(ctx, []byte(uri))
	if err != nil {
		p.log.Debug("binding not routable", "contact", b.Contact, "err", err)
		return t, false
	}
	t.dest = d
	return t, true
}

// redirect answers 302 with the targets' contacts, q and expiry kept (§8.3.1, §21.3.3).
func redirect(tx sipserver.ServerTx, ts []target) error {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("Contact: <" + t.uri + ">")
		if t.q != 1000 {
			b.WriteString(";q=" + formatQ(t.q))
		}
		if t.expires > 0 {
			b.WriteString(";expires=" + itoa(t.expires))
		}
		b.WriteString("\r\n")
	}
	return tx.Reply(302, "", []byte(b.String()))
}
