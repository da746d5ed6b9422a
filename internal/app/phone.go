package app

import (
	"slices"

	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/web"
)

// phoneConfig is /phone/config.json: the served domains and the ws and wss
// listeners, so that the web phone's sign-in form is filled in. A listener
// bound to a wildcard address is given without a host: the page uses the
// host name it was loaded from.
func (a *App) phoneConfig() web.PhoneConfig {
	c := web.PhoneConfig{Domains: slices.Clone(a.id.Domains())}
	for _, ln := range a.sip.Transport().Listeners() {
		p := ln.Proto()
		if p != transport.WS && p != transport.WSS {
			continue
		}
		s := web.PhoneSocket{Proto: "ws", Port: int(ln.Addr().Port()), Path: ln.Spec().Path}
		if p == transport.WSS {
			s.Proto = "wss"
		}
		if ip := ln.Addr().Addr(); !ip.IsUnspecified() {
			s.Host = ip.Unmap().String()
		}
		if s.Path == "" {
			s.Path = "/"
		}
		c.WebSockets = append(c.WebSockets, s)
	}
	return c
}
