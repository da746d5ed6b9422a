package auth

import "sync/atomic"

// Stats counts what the middleware decided.
type Stats struct {
	Challenges  uint64 // 401/407 sent, stale ones included
	Stale       uint64 // challenges with stale=true
	Forged      uint64 // nonces that failed their MAC
	Replays     uint64 // nonce-counts seen before
	Accepted    uint64 // requests authenticated
	Rejected    uint64 // 403/404 for a wrong password, unknown user or From mismatch
	Malformed   uint64 // 400 for unusable credentials
	StoreErrors uint64 // credential store failures (500)
	StoreStale  uint64 // store failures answered with credentials read before (not failures)
	Nonces      int    // nonces whose nonce-count is remembered now
}

type counters struct {
	challenges, stale, forged, replays, accepted, rejected, malformed, storeErrors, storeStale atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (d *Digest) Stats() Stats {
	c := &d.stats
	return Stats{
		Challenges: c.challenges.Load(), Stale: c.stale.Load(), Forged: c.forged.Load(),
		Replays: c.replays.Load(), Accepted: c.accepted.Load(), Rejected: c.rejected.Load(),
		Malformed: c.malformed.Load(), StoreErrors: c.storeErrors.Load(),
		StoreStale: c.storeStale.Load(), Nonces: d.seen.len(),
	}
}
