package app

import (
	"errors"

	"github.com/parley-sip/parley/internal/api"
	"github.com/parley-sip/parley/web"
	"net"
	"net/http"
	"time"
)

// startHTTP serves the management listener: /healthz, /readyz and /metrics
// without authentication, the API under /api/v1, the web console, and the
// web phone under /phone/ (whose users sign in with their SIP credentials).
func (a *App) startHTTP() error {
	addr := a.cfg.HTTPAddr()
	if addr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ready\n")) })
	mux.Handle("GET /metrics", a.metrics.Handler()) // Prometheus, no authentication
	api.New(api.Services{
		DB: a.stores.db, Users: a.stores.users, Domains: a.stores.domains, Admins: a.stores.admins,
		Locations: a.stores.loc, Calls: a.stores.calls, Status: a.status, Config: a.publicConfig,
		Capture: a.capture,
	}, a.log).Register(mux)
	mux.Handle(web.Prefix, web.Handler())                        // the web console
	mux.Handle(web.PhonePrefix, web.PhoneHandler(a.phoneConfig)) // the web phone (phone.go), no login
	mux.Handle("GET /{$}", http.RedirectHandler(web.Prefix, http.StatusFound))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.httpAddr = ln.Addr()
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http listener stopped", "err", err)
		}
	}()
	a.log.Info("management HTTP listening", "addr", ln.Addr().String())
	return nil
}

// status is GET /api/v1/status.
func (a *App) status() any {
	var lns []string
	for _, ln := range a.sip.Transport().Listeners() {
		lns = append(lns, ln.Proto().String()+" "+ln.Addr().String())
	}
	return map[string]any{
		"version": Version, "uptime_seconds": int(time.Since(a.started).Seconds()), "started": a.started,
		"listeners": lns, "domains": a.id.Domains(), "instance": a.stores.instance,
		"counters": a.sip.Stats(), "active_calls": len(a.stores.calls.List()),
	}
}

// publicConfig is the configuration in effect without its secrets.
func (a *App) publicConfig() any {
	c := a.Config().Clone()
	if c.Auth.Secret != "" {
		c.Auth.Secret = "(set)"
	}
	c.DB = redactDSN(c.DB)
	return c
}
