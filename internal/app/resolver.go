package app

import (
	"log/slog"
	"strings"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/transport/resolve"
)

// newResolver builds the RFC 3263 resolver of a configuration (dns.*) for the
// proxy. The transports it may pick are those Parley can send requests on:
// the ones it listens on (a Via needs a listener), WebSocket excepted since a
// server does not dial browsers; UDP first, as RFC 3263 §4.1 prefers it when
// the DNS leaves the choice. Without DNS servers only IP addresses resolve,
// which is logged.
func newResolver(cfg *config.Config, log *slog.Logger) *resolve.Resolver {
	size := cfg.DNS.CacheSize
	if size == 0 {
		size = -1 // dns.cache_size 0 turns the cache off
	}
	r := resolve.New(resolve.Config{
		Servers:    cfg.DNS.Servers,
		Timeout:    cfg.DNS.Timeout.Std(),
		CacheSize:  size,
		MaxTTL:     cfg.DNS.MaxTTL.Std(),
		Transports: sendable(cfg),
	})
	if err := r.Err(); err != nil {
		log.Warn("no DNS servers: requests to other domains by name cannot be routed", "err", err)
	}
	return r
}

// sendable lists the transports of the configured listeners that requests
// can be sent on, in the order UDP, TCP, TLS.
func sendable(cfg *config.Config) []transport.Proto {
	have := map[string]bool{}
	for _, s := range cfg.Listen {
		if l, err := config.ParseListener(s); err == nil {
			have[l.Proto] = true
		}
	}
	var out []transport.Proto
	for _, p := range []transport.Proto{transport.UDP, transport.TCP, transport.TLS} {
		if have[strings.ToLower(p.String())] {
			out = append(out, p)
		}
	}
	return out
}
