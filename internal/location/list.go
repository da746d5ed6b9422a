package location

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// List returns unexpired bindings ordered by AOR then contact, from offset, at
// most limit (0 = all), with the total. It sorts the AORs on every call, so it
// is for management, not for the call path.
func (m *Memory) List(_ context.Context, offset, limit int) ([]Binding, int, error) {
	offset, limit = max(offset, 0), max(limit, 0)
	nowMs := time.Now().UnixMilli()
	keys, total := m.liveCounts(nowMs)
	var out []Binding
	for _, k := range keys {
		if limit > 0 && len(out) >= limit {
			break
		}
		if offset >= k.n {
			offset -= k.n
			continue
		}
		bs := m.lookupMs(k.aor, nowMs)
		slices.SortFunc(bs, byContact)
		bs = bs[min(offset, len(bs)):]
		offset = 0
		if limit > 0 && len(out)+len(bs) > limit {
			bs = bs[:limit-len(out)]
		}
		out = append(out, bs...)
	}
	return out, total, nil
}

type aorCount struct {
	aor string
	n   int
}

// liveCounts returns the AORs with unexpired bindings and how many each has,
// ordered by AOR, and the sum.
func (m *Memory) liveCounts(nowMs int64) ([]aorCount, int) {
	var keys []aorCount
	total := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for aor, recs := range sh.m {
			n := 0
			for j := range recs {
				if live(recs[j].expires, nowMs) {
					n++
				}
			}
			if n > 0 {
				keys = append(keys, aorCount{aor, n})
				total += n
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(keys, func(a, b aorCount) int { return strings.Compare(a.aor, b.aor) })
	return keys, total
}

func (m *Memory) lookupMs(aor string, nowMs int64) []Binding {
	sh := m.shard(aor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return decodeLive(aor, sh.m[aor], nowMs)
}

func byContact(a, b Binding) int {
	return cmp.Or(strings.Compare(a.AOR, b.AOR), strings.Compare(a.Contact, b.Contact))
}
