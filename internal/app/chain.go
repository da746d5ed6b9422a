package app

import (
	"log/slog"
	"regexp"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/metrics"
	"github.com/parley-sip/parley/internal/proxy"
	"github.com/parley-sip/parley/internal/registrar"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
)

// buildChain compiles the handler chain for a configuration and returns it
// with its digest authenticator (whose counters the metrics follow). The
// order of the middlewares is decided here and nowhere else:
//
//  0. Metrics: counts each request and the responses sent for it, and times
//     an INVITE to its first response. First, so that it sees the requests
//     the others reject and the response the Server sends for an error.
//  1. Sanity: RFC 3261 §8.2 / §16.3 checks (416, 483, 420, 400).
//  2. Auth: digest challenges (401 for REGISTER, 407 for other requests from
//     our users), unless --auth=false or the source is trusted.
//  3. Stateless CANCEL: a CANCEL that matched no INVITE goes to the gateway
//     of the stateless route its INVITE took (§16.11); others go on to the
//     Mux, which answers them 481.
//  4. Mux: requests for Parley itself by method (REGISTER to a served domain,
//     OPTIONS), every other request to the proxy.
func buildChain(cfg *config.Config, id *sipserver.Identity, st *stores, srv *sipserver.Server, m *metrics.Metrics,
	log *slog.Logger) (sipserver.Handler, *auth.Digest, error) {
	digest := auth.New(auth.Config{
		NonceTTL:       cfg.Auth.NonceTTL.Std(),
		UnknownUser404: cfg.Auth.UnknownUser == "404",
		Trusted:        cfg.Auth.TrustedPrefixes(),
		Disabled:       !cfg.Auth.Enabled,
		Algorithms:     algorithms(cfg.Auth.Algorithms),
		MD5OnlyAgents:  cfg.Auth.MD5OnlyAgents,
		Secret:         st.nonceSecret(cfg.Auth.Secret),
	}, st.users, id, log)
	reg := registrar.New(registrar.Config{
		MinExpires: cfg.Registrar.MinExpires, MaxExpires: cfg.Registrar.MaxExpires,
		DefaultExpires: cfg.Registrar.DefaultExpires, MaxContacts: cfg.Registrar.MaxContacts,
		Instance: st.instance, Authenticated: auth.UserFromContext,
	}, st.loc, id, log)
	mux := sipserver.NewMux(id)
	mux.Handle("OPTIONS", sipserver.Options(mux, cfg.SIP.Supported))
	mux.Handle("REGISTER", reg)
	px := proxy.New(proxy.Config{
		TimerC: cfg.Timers.TimerC.Std(), Unregistered480: cfg.Proxy.Unregistered480,
		UserExists: st.userExists, OutboundProxy: cfg.Proxy.OutboundProxy, Redirect: cfg.Proxy.Redirect,
		Follow3xx: cfg.Proxy.Follow3xx, ReasonPhrases: cfg.ReasonPhrases, Instance: st.instance,
		Advertise: hostOnly(cfg.Advertise), Routes: routes(cfg.Proxy.Routes),
		Calls: st.calls, MaxCallDuration: cfg.Calls.MaxDuration.Std(),
		RedirectDomains: cfg.Proxy.RedirectDomains, Secret: st.sipSecret, Epoch: st.epoch,
		Resolver: newResolver(cfg, log), // resolver.go: RFC 3263 with the dns.* settings
	}, st.loc, srv, id, log)
	px.SetTrusted(auth.TrustedFromContext)
	px.SetMedia(mediaClient(cfg.Media, log)) // media.go: rtpengine for WebRTC to plain RTP calls
	mux.Forward(px)
	srv.SetStateless(px)
	// Challenges to non-INVITE requests without credentials are sent before
	// any transaction exists (sipserver.Screen, auth.Digest.Screen).
	var screen sipserver.Screen
	if cfg.Auth.Enabled {
		sane := sipserver.SanityCheck(id, cfg.SIP.Supported)
		screen = m.Screen(func(req *sip.Message, src transaction.Source) *sipserver.StatusError {
			return digest.Screen(req, src.Addr.Addr(), sane)
		})
	}
	srv.SetScreen(screen)
	return sipserver.Chain(mux, m.Middleware(), sipserver.Sanity(id, cfg.SIP.Supported), digest.Middleware(),
		px.StatelessCancel()), digest, nil
}

func algorithms(names []string) []auth.Algorithm {
	var out []auth.Algorithm
	for _, n := range names {
		if n == "SHA-256" {
			out = append(out, auth.SHA256)
		} else {
			out = append(out, auth.MD5)
		}
	}
	return out
}

func routes(rs []config.Route) []proxy.Route {
	var out []proxy.Route
	for _, r := range rs {
		out = append(out, proxy.Route{User: regexp.MustCompile(r.User), To: r.To, Stateless: r.Stateless, Redirect: r.Redirect})
	}
	return out
}
