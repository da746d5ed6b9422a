package resolve

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// cacheKey names one question: a lower-case fully qualified name and a type.
type cacheKey struct {
	name  string
	qtype uint16
}

// answer is the outcome of one question: the records of the asked type
// (after CNAMEs), or none, or NXDOMAIN.
type answer struct {
	rrs      []dns.RR
	nxdomain bool
}

type cacheEntry struct {
	answer
	expires time.Time
}

// cache keeps answers for their TTL, bounded by maxTTL, and at most size
// entries. When it is full, expired entries are dropped first, then the
// entry closest to expiry. It is safe for concurrent use; mu is a leaf lock.
type cache struct {
	size   int
	maxTTL time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

func newCache(size int, maxTTL time.Duration) *cache {
	if size < 0 {
		return nil
	}
	return &cache{size: size, maxTTL: maxTTL, now: time.Now, entries: make(map[cacheKey]cacheEntry)}
}

// get returns a cached answer that has not expired.
func (c *cache) get(k cacheKey) (answer, bool) {
	if c == nil {
		return answer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return answer{}, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, k)
		return answer{}, false
	}
	return e.answer, true
}

// put caches a for ttl (bounded by maxTTL); a zero ttl caches nothing.
func (c *cache) put(k cacheKey, a answer, ttl time.Duration) {
	if c == nil || ttl <= 0 {
		return
	}
	ttl = min(ttl, c.maxTTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.size {
		c.evictLocked(now)
	}
	c.entries[k] = cacheEntry{answer: a, expires: now.Add(ttl)}
}

// evictLocked makes room for one entry; mu is held.
func (c *cache) evictLocked(now time.Time) {
	var victim cacheKey
	var soonest time.Time
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		if soonest.IsZero() || e.expires.Before(soonest) {
			victim, soonest = k, e.expires
		}
	}
	if len(c.entries) >= c.size {
		delete(c.entries, victim)
	}
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
