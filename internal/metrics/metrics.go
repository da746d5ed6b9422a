package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/proxy"
	"github.com/parley-sip/parley/internal/sipserver"
)

// Sources are what the metrics read at scrape time. Nil fields leave their
// families out.
type Sources struct {
	// SIP is the server: its counters and those of its transaction and
	// transport layers.
	SIP interface{ Stats() sipserver.Stats }
	// Locations counts the bindings of the location store.
	Locations interface {
		Count(ctx context.Context) (int, error)
	}
	// Calls lists the calls in progress.
	Calls interface{ List() []proxy.Dialog }
	// CallRecords counts ended calls by disposition (see CountCalls).
	CallRecords *CallCounter
	// Auth returns the digest authentication counters.
	Auth interface{ Stats() auth.Stats }
}

// Options tune the metrics.
type Options struct {
	Version string // for parley_build_info
	// AutoTrying says the transaction layer answers every INVITE with 100
	// Trying before the handlers run (transaction.Config.NoTrying is false),
	// so that the Middleware counts that response too.
	AutoTrying bool
	Log        *slog.Logger // scrape errors; nil discards
}

// Metrics are Parley's collectors on one registry. A Metrics lives as long
// as the App: reloads keep its counters.
type Metrics struct {
	reg  *prometheus.Registry
	sip  *sipCounters
	log  *slog.Logger
	opts Options
}

// New registers Parley's collectors, reading src, on reg. The caller owns reg
// and adds the Go and process collectors it wants.
func New(reg *prometheus.Registry, src Sources, opts Options) (*Metrics, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: reg, sip: newSIPCounters(src.SIP), log: opts.Log, opts: opts}
	cs := []prometheus.Collector{m.sip, m.sip.firstResponse, buildInfo(opts.Version)}
	if src.SIP != nil {
		cs = append(cs, &coreCollector{src.SIP})
	}
	if src.Locations != nil {
		cs = append(cs, &registrationsCollector{src.Locations})
	}
	if src.Calls != nil || src.CallRecords != nil {
		cs = append(cs, &callsCollector{src.Calls, src.CallRecords})
	}
	if src.Auth != nil {
		cs = append(cs, &authCollector{src.Auth})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the registry in the Prometheus text format (or what the
// scraper negotiates). A collector that fails is logged and left out; the
// rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      printlnLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
}

// printlnLog adapts slog to promhttp.Logger.
type printlnLog struct{ log *slog.Logger }

func (l printlnLog) Println(v ...any) { l.log.Warn("metrics scrape", "err", fmt.Sprint(v...)) }

func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_build_info", Help: "Parley's version; always 1.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	g.Set(1)
	return g
}
