// Package app wires a configuration into running servers: transports,
// transaction layer, the handler chain (chain.go) and the management HTTP
// listener. It is the only package that knows every feature.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/api"
	"github.com/parley-sip/parley/internal/capture"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/metrics"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// Version is the Parley version reported by `parley version` and OPTIONS.
const Version = "0.1.0-dev"

// App is one running Parley.
type App struct {
	log      *slog.Logger
	level    *slog.LevelVar
	mu       sync.Mutex // guards cfg
	cfg      *config.Config
	sip      *sipserver.Server
	id       *sipserver.Identity
	stores   *stores
	http     *http.Server
	httpAddr net.Addr
	started  time.Time
	metrics  *metrics.Metrics // on a registry of the App's own; kept across reloads
	auth     authTotals       // the digest counters, summed across reloads
	capture  *capture.Ring    // recent SIP messages for the console; nil when off
}

// New builds an App from a validated configuration. level, when not nil, is
// the logger's level, changed on reload.
func New(cfg *config.Config, log *slog.Logger, level *slog.LevelVar) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if level == nil {
		level = new(slog.LevelVar)
	}
	level.Set(cfg.Level())
	a := &App{log: log, level: level, cfg: cfg, started: time.Now()}
	st, err := openStores(cfg, log)
	if err != nil {
		return nil, err
	}
	a.stores = st
	scfg := sipserverConfig(cfg)
	scfg.Secret = st.sipSecret // signs our Via branches too, so instances and restarts recognise each other's
	scfg.Transport.OnConnClose = st.onConnClose(log)
	if a.capture = capture.New(cfg.Limits.CaptureMessages); a.capture != nil {
		scfg.Transport.Tap = a.capture.Tap
	}
	a.sip = sipserver.New(scfg, nil, log)
	a.id = sipserver.NewIdentity(nil, hostOnly(cfg.Advertise), a.sip.Transport())
	st.domains = api.NewDomains(st.db, a.id.SetDomains)
	if err := seedDomains(st.domains, cfg.Domain); err != nil {
		st.close(context.Background())
		return nil, err
	}
	if a.metrics, err = a.newMetrics(!scfg.Transaction.NoTrying); err != nil {
		st.close(context.Background())
		return nil, err
	}
	h, digest, err := buildChain(cfg, a.id, st, a.sip, a.metrics, log)
	if err != nil {
		st.close(context.Background())
		return nil, err
	}
	a.auth.swap(digest)
	a.sip.SetHandler(h)
	return a, nil
}

func sipserverConfig(cfg *config.Config) sipserver.Config {
	l := cfg.Limits
	return sipserver.Config{
		Transport: transport.Config{
			MaxMessageSize: l.MaxMessageSize, MaxConnsPerIP: l.MaxConnsPerIP,
			IdleTimeout: l.IdleTimeout.Std(), HandshakeTimeout: l.HandshakeTimeout.Std(),
			TLSCertFile: cfg.TLSCert, TLSKeyFile: cfg.TLSKey,
			WSAllowedOrigins: cfg.WebSocket.AllowedOrigins,
		},
		Transaction: transaction.Config{
			Limits:          sip.Limits{MaxHeaders: l.MaxHeaders},
			Timers:          transaction.Timers{T1: cfg.Timers.T1.Std(), T2: cfg.Timers.T2.Std(), T4: cfg.Timers.T4.Std()},
			MaxTransactions: l.MaxTransactions,
			MaxAnswered:     l.MaxAnsweredTransactions,
			ServerHeader:    cfg.SIP.ServerHeader,
		},
	}
}

func hostOnly(adv string) string {
	if h, _, err := net.SplitHostPort(adv); err == nil {
		return h
	}
	return adv
}

// seedDomains adds the configured domains (--domain) to the domains table,
// which the management API may change further; the Identity follows it.
func seedDomains(d *api.Domains, names []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return d.Seed(ctx, names)
}

// Start opens every listener of the configuration.
func (a *App) Start() error {
	for _, spec := range a.cfg.Listen {
		ln, err := a.sip.Listen(spec)
		if err != nil {
			a.sip.Shutdown(context.Background())
			a.stores.close(context.Background())
			return fmt.Errorf("listen %s: %w", spec, err)
		}
		a.log.Info("listening", "transport", ln.Proto().String(), "addr", ln.Addr().String())
	}
	return a.startHTTP()
}

// SIP returns the SIP server, for tests and the management API.
func (a *App) SIP() *sipserver.Server { return a.sip }

// HTTPAddr returns the management listener's address, or nil.
func (a *App) HTTPAddr() net.Addr { return a.httpAddr }

// Reload applies a new configuration without dropping transactions: it is
// validated, refused when it changes what needs a restart, then the new handler
// chain is built and swapped in. On any error the old configuration runs on.
func (a *App) Reload(next *config.Config) error {
	if err := next.Validate(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := config.CheckReload(a.cfg, next); err != nil {
		return err
	}
	if err := seedDomains(a.stores.domains, next.Domain); err != nil {
		return err
	}
	h, digest, err := buildChain(next, a.id, a.stores, a.sip, a.metrics, a.log)
	if err != nil {
		return err
	}
	a.auth.swap(digest)
	a.sip.SetHandler(h)
	a.cfg = next
	if err := a.stores.cdr.Reopen(); err != nil { // SIGHUP also rotates the CDR file
		a.log.Warn("cdr file not reopened", "err", err)
	}
	a.level.Set(next.Level())
	return nil
}

// Config returns the configuration in effect.
func (a *App) Config() *config.Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

// Shutdown stops Parley gracefully, within ctx:
//  1. the HTTP listener stops and SIP drains (sipserver.Server.Drain: new
//     requests get 503, requests in progress get their final response), for
//     at most ctx's time less a reserve kept for the rest (drainDeadline);
//  2. every call still up is ended with a BYE to both ends and gets its call
//     record, hangup_by "system" (proxy.Calls.EndAll), and the BYEs are given
//     a moment to be answered (bounded by ctx, whose whole time is left);
//  3. the SIP listeners and connections close;
//  4. the call-record writer writes what is queued and the location store
//     what it holds back, both bounded by ctx, and the database closes.
//
// Whatever ctx cuts short is reported in the error.
func (a *App) Shutdown(ctx context.Context) error {
	drainCtx, cancel := context.WithDeadline(ctx, drainDeadline(ctx, time.Now()))
	defer cancel()
	var errs []error
	if a.http != nil {
		errs = append(errs, a.http.Shutdown(drainCtx))
	}
	errs = append(errs, a.sip.Drain(drainCtx))
	if n := a.stores.calls.EndAll(ctx, "Server shutting down"); n > 0 {
		a.log.Info("calls ended at shutdown", "calls", n)
	}
	errs = append(errs, a.sip.Shutdown(ctx))
	errs = append(errs, a.stores.close(ctx))
	return errors.Join(errs...)
}

// maxDrainReserve bounds the share of the shutdown time kept, after
// draining, for ending the calls still up and writing what is queued: a
// quarter of it, at most this.
const maxDrainReserve = 5 * time.Second

// drainDeadline is when draining must stop for ctx: its deadline less the
// reserve, or a minute from now when ctx has no deadline.
func drainDeadline(ctx context.Context, now time.Time) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return now.Add(time.Minute)
	}
	return d.Add(-min(d.Sub(now)/4, maxDrainReserve))
}
