package location

import (
	"context"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"
	"unique"
)

const nshards = 256

// Memory is a Store in memory only (tests, --db none, and the cache inside
// Cached). The AORs are spread over 256 shards, each a map under its own
// mutex, so REGISTERs for different AORs rarely contend; bindings are kept
// compact (see rec), about 400 bytes each for typical values.
type Memory struct {
	seed   maphash.Seed
	shards [nshards]shard
}

// shard is one part of the AOR map. No other mutex of this package is taken
// while mu is held (see "Lock order" in the package documentation).
type shard struct {
	mu sync.Mutex
	m  map[string][]rec // AOR -> bindings ordered by Less; never an empty slice
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[string][]rec)
	}
	return m
}

func (m *Memory) shard(aor string) *shard {
	return &m.shards[maphash.String(m.seed, aor)%nshards]
}

// Lookup returns the unexpired bindings of aor. It allocates the result slice
// and, for bindings with a Path, the Path slices; nothing else.
func (m *Memory) Lookup(_ context.Context, aor string) ([]Binding, error) {
	return m.lookupMs(aor, time.Now().UnixMilli()), nil
}

// decodeLive unpacks the bindings of recs that are alive at nowMs.
func decodeLive(aor string, recs []rec, nowMs int64) []Binding {
	if len(recs) == 0 {
		return nil
	}
	out := make([]Binding, 0, len(recs))
	for i := range recs {
		if live(recs[i].expires, nowMs) {
			out = append(out, recs[i].binding(aor))
		}
	}
	return out
}

// Update replaces the bindings of aor with what fn returns; see Store.
func (m *Memory) Update(_ context.Context, aor string, fn func(cur []Binding) ([]Binding, error)) ([]Binding, error) {
	return m.update(aor, fn, nil)
}

// update is Update with a commit hook: commit, when not nil, is called with
// the prepared new set while the shard is still locked, and an error from it
// aborts the update (Cached's write-through mode writes the database there).
func (m *Memory) update(aor string, fn func([]Binding) ([]Binding, error), commit func([]Binding) error) ([]Binding, error) {
	sh := m.shard(aor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := time.Now()
	next, err := fn(decodeLive(aor, sh.m[aor], now.UnixMilli()))
	if err != nil {
		return nil, err
	}
	if next, err = Prepare(aor, next, now); err != nil {
		return nil, err
	}
	if commit != nil {
		if err := commit(next); err != nil {
			return nil, err
		}
	}
	sh.set(aor, next)
	return next, nil
}

// set stores bs (prepared) as the bindings of aor. sh.mu must be held.
func (sh *shard) set(aor string, bs []Binding) {
	if len(bs) == 0 {
		delete(sh.m, aor)
		return
	}
	recs := sh.m[aor]
	if cap(recs) < len(bs) || cap(recs) > 2*len(bs) {
		recs = make([]rec, 0, len(bs))
	}
	recs = recs[:0]
	for i := range bs {
		recs = append(recs, encode(&bs[i]))
	}
	// Assigning replaces the stored key too, so store a copy: aor may point
	// into a whole SIP message that the map would otherwise keep alive.
	sh.m[strings.Clone(aor)] = recs
}

// snapshot returns all stored bindings of aor, expired or not.
func (m *Memory) snapshot(aor string) []Binding { return m.lookupMs(aor, math.MinInt64) }

// DeleteConn removes the bindings registered over connection id on instance.
func (m *Memory) DeleteConn(_ context.Context, instance string, id uint64) (int, error) {
	n, _ := m.deleteConn(instance, id, nil)
	return n, nil
}

func (m *Memory) deleteConn(instance string, id uint64, changed []string) (int, []string) {
	if id == 0 {
		return 0, changed
	}
	in := unique.Make(instance)
	return m.removeIf(func(r *rec) bool { return r.connID == id && r.instance == in }, changed)
}

// Expire removes the bindings that expired at or before now.
func (m *Memory) Expire(_ context.Context, now time.Time) (int, error) {
	n, _ := m.expire(now, nil)
	return n, nil
}

func (m *Memory) expire(now time.Time, changed []string) (int, []string) {
	nowMs := now.UnixMilli()
	return m.removeIf(func(r *rec) bool { return !live(r.expires, nowMs) }, changed)
}

// removeIf deletes the bindings for which drop is true, shard by shard, and
// returns how many, appending the AORs it changed to changed.
func (m *Memory) removeIf(drop func(*rec) bool, changed []string) (int, []string) {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for aor, recs := range sh.m {
			kept := deleteRecs(recs, drop)
			if len(kept) == len(recs) {
				continue
			}
			n += len(recs) - len(kept)
			changed = append(changed, aor)
			if len(kept) == 0 {
				delete(sh.m, aor)
			} else {
				sh.m[aor] = kept
			}
		}
		sh.mu.Unlock()
	}
	return n, changed
}

// Count returns the number of unexpired bindings.
func (m *Memory) Count(context.Context) (int, error) {
	nowMs, n := time.Now().UnixMilli(), 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, recs := range sh.m {
			for j := range recs {
				if live(recs[j].expires, nowMs) {
					n++
				}
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Close does nothing: a Memory store holds no resources.
func (m *Memory) Close() error { return nil }

// deleteRecs removes the recs for which drop is true, in place, keeping order.
func deleteRecs(recs []rec, drop func(*rec) bool) []rec {
	kept := recs[:0]
	for i := range recs {
		if !drop(&recs[i]) {
			kept = append(kept, recs[i])
		}
	}
	clear(recs[len(kept):])
	return kept
}
