package auth

import (
	"math"
	"slices"
	"sync"
)

// ncShards and ncShardMax bound the nonce-count memory: at most
// ncShards*ncShardMax nonces (about 10 MB) are remembered at once.
const (
	ncShards   = 32
	ncShardMax = 8192
)

// ncVerdict is what replayGuard.advance decides.
type ncVerdict uint8

const (
	ncOK        ncVerdict = iota // nc is above every nc seen with this nonce
	ncReplay                     // nc was already used: a replayed request
	ncForgotten                  // the nonce was evicted to bound memory: issue a new one
)

// replayGuard remembers, per nonce, the highest nonce-count accepted (RFC 7616
// §3.4 nc, §5.5 replay attacks). Entries are dropped when their nonce
// expires. When a shard is full even after that, its oldest quarter is evicted
// and the shard's floor rises to the newest evicted issue time: a nonce issued
// at or before the floor that is not remembered is answered as stale, so
// eviction never reopens a replay window.
type replayGuard struct {
	ttlMs  int64
	max    int // entries per shard
	shards [ncShards]ncShard
}

type ncShard struct {
	mu        sync.Mutex
	seen      map[nonceKey]uint32 // guarded by mu
	floor     int64               // guarded by mu; Unix ms
	nextSweep int64               // guarded by mu; Unix ms
}

func newReplayGuard(ttlMs int64, perShard int) *replayGuard {
	g := &replayGuard{ttlMs: ttlMs, max: perShard}
	for i := range g.shards {
		g.shards[i].seen = make(map[nonceKey]uint32)
		g.shards[i].floor = math.MinInt64
	}
	return g
}

// advance records nc for the nonce k if it is above the last one seen.
func (g *replayGuard) advance(k nonceKey, nc uint32, nowMs int64) ncVerdict {
	s := &g.shards[k[8]%ncShards] // k[8:] is random
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.seen[k]; ok {
		if nc <= last {
			return ncReplay
		}
		s.seen[k] = nc
		return ncOK
	}
	if k.issuedMs() <= s.floor {
		return ncForgotten
	}
	if nowMs >= s.nextSweep || len(s.seen) >= g.max {
		s.sweep(nowMs, g.ttlMs)
	}
	if len(s.seen) >= g.max {
		s.evictOldest()
		if k.issuedMs() <= s.floor {
			return ncForgotten
		}
	}
	s.seen[k] = nc
	return ncOK
}

// sweep drops the nonces that have expired. s.mu must be held.
func (s *ncShard) sweep(nowMs, ttlMs int64) {
	for k := range s.seen {
		if k.issuedMs()+ttlMs < nowMs {
			delete(s.seen, k)
		}
	}
	s.nextSweep = nowMs + ttlMs/4
}

// evictOldest drops the oldest quarter of the entries and raises the floor.
// s.mu must be held.
func (s *ncShard) evictOldest() {
	ts := make([]int64, 0, len(s.seen))
	for k := range s.seen {
		ts = append(ts, k.issuedMs())
	}
	slices.Sort(ts)
	cut := ts[len(ts)/4]
	for k := range s.seen {
		if k.issuedMs() <= cut {
			delete(s.seen, k)
		}
	}
	s.floor = max(s.floor, cut)
}

// len returns the number of remembered nonces, for tests and Stats.
func (g *replayGuard) len() int {
	n := 0
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		n += len(s.seen)
		s.mu.Unlock()
	}
	return n
}
