package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/proxy"
)

// scrapeTimeout bounds a store read made during a scrape.
const scrapeTimeout = 5 * time.Second

var (
	descRegistrations = prometheus.NewDesc("parley_registrations",
		"Bindings (registered contacts) in the location store.", nil, nil)
	descCallsActive = prometheus.NewDesc("parley_calls_active",
		"Calls in progress, by dialog state (early, confirmed).", []string{"state"}, nil)
	descCalls = prometheus.NewDesc("parley_calls_total",
		"Calls ended, by disposition (as in call records).", []string{"disposition"}, nil)
	descAuthChallenges = prometheus.NewDesc("parley_auth_challenges_total",
		"Digest challenges (401/407) sent; stale says whether stale=true was set.", []string{"stale"}, nil)
	descAuthAccepted = prometheus.NewDesc("parley_auth_accepted_total",
		"Requests whose digest credentials were accepted.", nil, nil)
	descAuthFailures = prometheus.NewDesc("parley_auth_failures_total",
		"Digest authentication failures, by reason.", []string{"reason"}, nil)
	descAuthStale = prometheus.NewDesc("parley_auth_stale_credentials_total",
		"Requests checked against the credentials kept from before a credential store failure (a database outage).", nil, nil)
	descAuthNonces = prometheus.NewDesc("parley_auth_nonces",
		"Nonces whose nonce-count is remembered now.", nil, nil)
)

// registrationsCollector counts bindings at scrape time.
type registrationsCollector struct {
	src interface {
		Count(ctx context.Context) (int, error)
	}
}

// Describe implements prometheus.Collector.
func (c *registrationsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRegistrations }

// Collect implements prometheus.Collector.
func (c *registrationsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, err := c.src.Count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descRegistrations, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descRegistrations, prometheus.GaugeValue, float64(n))
}

// dispositions are the label values of parley_calls_total, in the order of
// CallCounter's slots; the last one takes unknown dispositions.
var dispositions = [...]acc.Disposition{acc.Answered, acc.Busy, acc.Declined, acc.Cancelled, acc.NoAnswer, acc.Failed, "other"}

// CallCounter is an acc.Recorder that counts call records by disposition and
// passes them on. Put it between the dialog tracker and the CDR writer.
type CallCounter struct {
	next acc.Recorder
	n    [len(dispositions)]atomic.Uint64
}

// CountCalls returns a CallCounter passing records on to next (may be nil).
func CountCalls(next acc.Recorder) *CallCounter { return &CallCounter{next: next} }

// Record implements acc.Recorder.
func (c *CallCounter) Record(r acc.Record) {
	i := len(dispositions) - 1
	for j, d := range dispositions[:i] {
		if r.Disposition == d {
			i = j
			break
		}
	}
	c.n[i].Add(1)
	if c.next != nil {
		c.next.Record(r)
	}
}

var _ acc.Recorder = (*CallCounter)(nil)

// callsCollector reads the calls in progress and the ended calls.
type callsCollector struct {
	active interface{ List() []proxy.Dialog }
	ended  *CallCounter
}

// Describe implements prometheus.Collector.
func (c *callsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCallsActive
	ch <- descCalls
}

// Collect implements prometheus.Collector.
func (c *callsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.active != nil {
		var early, confirmed int
		for _, d := range c.active.List() {
			switch d.State {
			case proxy.Early:
				early++
			case proxy.Confirmed:
				confirmed++
			}
		}
		ch <- prometheus.MustNewConstMetric(descCallsActive, prometheus.GaugeValue, float64(early), string(proxy.Early))
		ch <- prometheus.MustNewConstMetric(descCallsActive, prometheus.GaugeValue, float64(confirmed), string(proxy.Confirmed))
	}
	if c.ended != nil {
		for i, d := range dispositions {
			counter(ch, descCalls, c.ended.n[i].Load(), string(d))
		}
	}
}

// authCollector reads the digest authentication counters.
type authCollector struct {
	src interface{ Stats() auth.Stats }
}

// Describe implements prometheus.Collector.
func (c *authCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAuthChallenges, descAuthAccepted, descAuthFailures, descAuthStale, descAuthNonces} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *authCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	counter(ch, descAuthChallenges, s.Challenges-min(s.Stale, s.Challenges), "false")
	counter(ch, descAuthChallenges, s.Stale, "true")
	counter(ch, descAuthAccepted, s.Accepted)
	counter(ch, descAuthFailures, s.Rejected, "wrong_credentials")
	counter(ch, descAuthFailures, s.Forged, "forged_nonce")
	counter(ch, descAuthFailures, s.Replays, "replay")
	counter(ch, descAuthFailures, s.Malformed, "malformed")
	counter(ch, descAuthFailures, s.StoreErrors, "store_error")
	counter(ch, descAuthStale, s.StoreStale)
	ch <- prometheus.MustNewConstMetric(descAuthNonces, prometheus.GaugeValue, float64(s.Nonces))
}
