package app

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/metrics"
)

// newMetrics makes the App's registry (the Go and process collectors plus
// Parley's, see internal/metrics) over the App's server and stores.
func (a *App) newMetrics(autoTrying bool) (*metrics.Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return metrics.New(reg, metrics.Sources{
		SIP: a.sip, Locations: a.stores.loc, Calls: a.stores.calls, CallRecords: a.stores.callCount, Auth: &a.auth,
	}, metrics.Options{Version: Version, AutoTrying: autoTrying, Log: a.log})
}

// authTotals sums the counters of every auth.Digest the App has run: each
// reload builds a new one, and the metrics must not go back to zero. What an
// old Digest counts after it is swapped out (requests still in its chain) is
// not seen.
type authTotals struct {
	mu   sync.Mutex
	base auth.Stats
	cur  *auth.Digest
}

// swap makes d the Digest in service.
func (t *authTotals) swap(d *auth.Digest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil {
		t.base = addAuth(t.base, t.cur.Stats())
	}
	t.cur = d
}

// Stats returns the totals; Nonces is the current Digest's.
func (t *authTotals) Stats() auth.Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.base
	if t.cur != nil {
		c := t.cur.Stats()
		s = addAuth(s, c)
		s.Nonces = c.Nonces
	}
	return s
}

func addAuth(a, b auth.Stats) auth.Stats {
	return auth.Stats{
		Challenges: a.Challenges + b.Challenges, Stale: a.Stale + b.Stale, Forged: a.Forged + b.Forged,
		Replays: a.Replays + b.Replays, Accepted: a.Accepted + b.Accepted, Rejected: a.Rejected + b.Rejected,
		Malformed: a.Malformed + b.Malformed, StoreErrors: a.StoreErrors + b.StoreErrors,
		StoreStale: a.StoreStale + b.StoreStale,
	}
}
