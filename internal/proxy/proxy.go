package proxy

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"

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
	tok      tokens          // signs the flows in our Record-Routes and stateless Vias
	late     *lateBranches   // INVITE branches given up, whose late 2xx Parley ends itself
	redirDom map[string]bool // Config.RedirectDomains
	media    *mediaRelay     // rtpengine for calls between WebRTC and plain RTP (media.go); nil: none
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
	cfg = cfg.withDefaults()
	p := &Proxy{cfg: cfg, loc: loc, txl: srv.Transactions(), tl: srv.Transport(), id: id,
		log: log, seed: maphash.MakeSeed(), tok: newTokens(cfg.Secret, cfg.Epoch),
		late: newLateBranches(cfg.TimerC), redirDom: make(map[string]bool)}
	for _, d := range cfg.RedirectDomains {
		p.redirDom[strings.TrimSuffix(strings.ToLower(d), ".")] = true
	}
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
	rt := p.processRoutes(req)
	if p.looped(req, &rt) {
		return sipserver.Reject(482, "", "")
	}
	var c *call
	if req.Method() == sip.INVITE && len(req.ToTag) == 0 {
		c = p.calls.start(req, tx.Origin(), p.isLocalUser(req.RequestURI()))
	}
	pl, err := p.targets(ctx, tx, req, &rt)
	if err != nil {
		if se, ok := err.(*sipserver.StatusError); ok {
			p.calls.failed(c, se.Code, se.Reason)
		} else if errors.Is(err, sipserver.ErrNoResponse) {
			p.calls.forget(c) // forwarded statelessly: Parley never learns how it ends
		}
		return err
	}
	if len(req.ToTag) > 0 {
		p.calls.inDialog(req, tx.Origin()) // only a request Parley relays can end a call
	}
	if pl.redirect {
		err = redirect(tx, req, pl.targets)
		if err == nil {
			p.calls.failed(c, 302, "Moved Temporarily")
		}
		return err
	}
	f := newForker(p, tx, req, &rt)
	f.call = c
	return f.run(ctx, groupByQ(pl.targets))
}
